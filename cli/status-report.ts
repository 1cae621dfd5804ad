// What `berth status` reports, read without changing anything: the stream and the consumer's lag,
// dead letters, and per node the state bucket (containers, last event) against the node's agent
// (berth-owned services, drift computed the way reconciliation computes it).
import { consumerLag, lastDeadLetters, openStateBucket, streamCounts, type Bus, type ConsumerLag } from "../common/nats/index.ts";
import type { AgentClient } from "../handler/consul.ts";
import { parseStateKey } from "../common/state-keys.ts";
import { decodeSnapshot, decodeState } from "../handler/latest.ts";
import { ownedByNode } from "../handler/meta.ts";
import { nodeDrift } from "../handler/reconcile.ts";
import type { MappingSettings } from "../handler/settings.ts";
import { SchemaError, parseDeadLetter, streamNames, type ContainerEvent } from "../schemas/index.ts";

export type NodeStatus = {
  name: string;
  /** The newest Docker event time berth holds for the node (ISO 8601), or null. */
  lastEvent: string | null;
  /** The time of the node's last snapshot (the emitter's heartbeat, every BERTH_RESYNC_SECONDS), or null. */
  lastSnapshot: string | null;
  /** Containers whose latest state is running. */
  containers: number;
  /** berth-owned services in the node's agent; null when the agent could not be asked. */
  services: number | null;
  /** Services the agent lacks or holds outdated (missing), and holds for no running container (stale). */
  drift: { missing: number; stale: number; containers: string[] } | null;
  /** "ok", "no agent configured", or why the agent could not be asked. */
  agent: string;
};

export type DeadLetterSummary = { time: string; reason: string; subject: string; problems: string[] };

export type StatusReport = {
  prefix: string;
  stream: { name: string; messages: number; bytes: number };
  consumer: ({ name: string } & ConsumerLag) | { name: string; error: string };
  deadLetters: { count: number; byReason: Record<string, number>; last: DeadLetterSummary[] };
  nodes: NodeStatus[];
};

export type StatusDeps = {
  bus: Bus;
  agentFor(node: string): AgentClient | undefined;
  /** Nodes the configuration names (BERTH_CONSUL_AGENTS), shown even before any event. */
  configuredNodes: readonly string[];
  mapping: MappingSettings;
  lastDeadLetters: number;
};

const nanosToIso = (nanos: bigint) => new Date(Number(nanos / 1_000_000n)).toISOString();
const isRunning = (e: ContainerEvent) =>
  e.type !== "io.berth.container.stopped" && e.data.container.exitCode === undefined && !e.data.container.removed;

/** Each node's container states (latest event per container) and its last snapshot time, from the bucket. */
async function readState(bus: Bus) {
  const bucket = await openStateBucket(bus);
  const nodes = new Map<string, { latest: Map<string, ContainerEvent>; snapshot: bigint | undefined }>();
  const of = (node: string) => nodes.get(node) ?? nodes.set(node, { latest: new Map(), snapshot: undefined }).get(node)!;
  for (const [key, entry] of await bucket.entriesMatching(">")) {
    const parsed = parseStateKey(key);
    // Bookkeeping (each snapshot's time …) is no node's; a key that is not berth's, nobody's.
    if (parsed?.kind === "snapshot") of(parsed.node).snapshot = BigInt(decodeSnapshot(entry).data.timeNano);
    else if (parsed?.kind === "container") of(parsed.node).latest.set(parsed.containerId, decodeState(entry));
  }
  return nodes;
}

async function nodeStatus(
  deps: StatusDeps,
  name: string,
  state: { latest: Map<string, ContainerEvent>; snapshot: bigint | undefined },
): Promise<NodeStatus> {
  const times = [...state.latest.values()].map((e) => BigInt(e.data.timeNano));
  const newest = times.reduce<bigint | undefined>((a, b) => (a === undefined || b > a ? b : a), undefined);
  const base = {
    name,
    lastEvent: newest === undefined ? null : nanosToIso(newest),
    lastSnapshot: state.snapshot === undefined ? null : nanosToIso(state.snapshot),
    containers: [...state.latest.values()].filter(isRunning).length,
  };
  const agent = deps.agentFor(name);
  if (!agent) return { ...base, services: null, drift: null, agent: "no agent configured" };
  try {
    const actual = await agent.services(ownedByNode(name));
    const drift = nodeDrift(state.latest, actual, deps.mapping);
    return { ...base, services: Object.keys(actual).length, drift, agent: "ok" };
  } catch (err) {
    return { ...base, services: null, drift: null, agent: (err as Error).message };
  }
}

function summarise(subject: string, data: Uint8Array, time: Date): DeadLetterSummary {
  const reason = subject.split(".").at(-1) ?? "";
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(data));
  } catch {
    return { time: time.toISOString(), reason, subject: "", problems: ["(the dead letter is not JSON)"] };
  }
  try {
    const letter = parseDeadLetter(value);
    return { time: time.toISOString(), reason, subject: letter.subject, problems: letter.problems };
  } catch (err) {
    if (!(err instanceof SchemaError)) throw err;
    return {
      time: time.toISOString(),
      reason,
      subject: "",
      problems: ["(the dead letter does not follow dead-letter.v1)", ...err.problems],
    };
  }
}

export async function statusReport(deps: StatusDeps): Promise<StatusReport> {
  const { bus } = deps;
  const names = streamNames(bus.prefix);
  const counts = await streamCounts(bus);
  const consumer = await consumerLag(bus).then(
    (lag) => ({ name: names.consumer, ...lag }),
    (err: unknown) => ({ name: names.consumer, error: (err as Error).message }),
  );
  const byReason: Record<string, number> = {};
  for (const [subject, n] of Object.entries(counts.deadLetters.bySubject)) {
    const reason = subject.split(".").at(-1) ?? subject;
    byReason[reason] = (byReason[reason] ?? 0) + n;
  }
  const last = (await lastDeadLetters(bus, deps.lastDeadLetters)).map((m) => summarise(m.subject, m.data, m.time));
  const state = await readState(bus);
  for (const node of deps.configuredNodes) if (!state.has(node)) state.set(node, { latest: new Map(), snapshot: undefined });
  const nodes = await Promise.all([...state.keys()].sort().map((name) => nodeStatus(deps, name, state.get(name)!)));
  return {
    prefix: bus.prefix,
    stream: { name: names.events, messages: counts.events.messages, bytes: counts.events.bytes },
    consumer,
    deadLetters: { count: counts.deadLetters.messages, byReason, last },
    nodes,
  };
}
