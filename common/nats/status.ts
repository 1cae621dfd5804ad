// What berth status and the metrics read of the streams: lag, counts, the last dead letters.
import { nodeOfRepairSubject, parseRepairRequest, streamNames } from "../../schemas/index.ts";
import type { Bus } from "./connect.ts";
import { jetstreamManager } from "./sdk.ts";

export type StoredMessage = { subject: string; data: Uint8Array };

/** The shared consumer's backlog: not yet delivered (`pending`) and delivered but not acked. */
export type ConsumerLag = { pending: number; ackPending: number; redelivered: number };

export async function consumerLag(bus: Bus): Promise<ConsumerLag> {
  const names = streamNames(bus.prefix);
  const info = await (await jetstreamManager(bus.nc)).consumers.info(names.events, names.consumer);
  return { pending: info.num_pending, ackPending: info.num_ack_pending, redelivered: info.num_redelivered };
}

export type StreamCounts = { messages: number; bytes: number; bySubject: Record<string, number> };

/** Message counts of berth's event stream and dead-letter stream, the latter per subject (reason). */
export async function streamCounts(bus: Bus): Promise<{ events: StreamCounts; deadLetters: StreamCounts }> {
  const jsm = await jetstreamManager(bus.nc);
  const names = streamNames(bus.prefix);
  const read = async (name: string, perSubject: boolean): Promise<StreamCounts> => {
    const info = await jsm.streams.info(name, perSubject ? { subjects_filter: ">" } : undefined);
    return { messages: info.state.messages, bytes: info.state.bytes, bySubject: { ...(info.state.subjects ?? {}) } };
  };
  return { events: await read(names.events, false), deadLetters: await read(names.deadLetters, true) };
}

/** The newest `limit` dead letters, oldest first (read by sequence: nothing is consumed). */
export async function lastDeadLetters(bus: Bus, limit: number): Promise<(StoredMessage & { time: Date })[]> {
  const jsm = await jetstreamManager(bus.nc);
  const name = streamNames(bus.prefix).deadLetters;
  const { state } = await jsm.streams.info(name);
  const out: (StoredMessage & { time: Date })[] = [];
  for (let seq = state.last_seq; seq >= state.first_seq && seq > 0 && out.length < limit; seq--) {
    const m = await jsm.streams.getMessage(name, { seq }).catch(() => null);
    if (m) out.unshift({ subject: m.subject, data: m.data, time: m.time });
  }
  return out;
}

/** A node whose changes wait for its agent: the newest repair request pending for it. */
export type WaitingNode = { node: string; reason: string; since: Date; at: Date };

/** At most this many waiting nodes are read (one request each) for a status or a scrape. */
const WAITING_READ_LIMIT = 1_000;

/** The nodes with a repair request pending, from the repair stream (nothing is consumed). */
export async function waitingNodes(bus: Bus): Promise<WaitingNode[]> {
  const jsm = await jetstreamManager(bus.nc);
  const name = streamNames(bus.prefix).repairs;
  const info = await jsm.streams.info(name, { subjects_filter: ">" });
  const out: WaitingNode[] = [];
  for (const subject of Object.keys(info.state.subjects ?? {}).slice(0, WAITING_READ_LIMIT)) {
    const m = await jsm.streams.getMessage(name, { last_by_subj: subject }).catch(() => null);
    if (!m) continue; // repaired and acked since the listing
    try {
      const request = parseRepairRequest(m.json());
      out.push({ node: request.node, reason: request.reason, since: new Date(request.since), at: new Date(request.at) });
    } catch {
      out.push({
        node: nodeOfRepairSubject(bus.prefix, subject) ?? subject,
        reason: "(an unreadable repair request)",
        since: m.time,
        at: m.time,
      });
    }
  }
  return out.sort((a, b) => a.node.localeCompare(b.node));
}
