// What `berth status` reports, read without changing anything: the stream and the consumer's lag,
// dead letters, the nodes whose changes wait for their agent (their pending repair requests), and
// per node the state bucket (containers, last event) against the node's agent (berth-owned
// services, drift computed the way reconciliation computes it).
import {
  consumerLag,
  lastDeadLetters,
  openStateBucket,
  streamCounts,
  waitingNodes,
  type Bus,
  type ConsumerLag,
  type WaitingNode,
} from "../common/nats/index.ts";
import type { AgentClient } from "../consul/client.ts";
import { waitingKind } from "../handler/metrics.ts";
import { parseStateKey } from "../common/state-keys.ts";
import { decodeSnapshot, decodeState } from "../handler/latest.ts";
import { ownedByNode } from "../mapping/meta.ts";
import { nodeDrift } from "../handler/reconcile.ts";
import type { MappingSettings } from "../mapping/settings.ts";
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
  /** Its changes wait for its agent (a repair request is pending): since when and why; null when they do not. */
  waiting: NodeWaiting | null;
};

/** A node's pending repair request, as `berth status` shows it. */
export type NodeWaiting = {
  /** Since when the node has been in trouble, as the handler that asked for the repair saw it (ISO 8601). */
  since: string;
  /** Seconds from `since` to the report. */
  seconds: number;
  /** What it waits for, as the metric berth_node_waiting_seconds labels it. */
  for: "unreachable" | "slow" | "error";
  /** The agent's trouble in the handler's words, e.g. `agent unreachable: connect ECONNREFUSED 10.0.0.3:8500`. */
  reason: string;
  /** When the newest repair request was made (ISO 8601): a later deferred change asks again. */
  requested: string;
};

export type DeadLetterSummary = { time: string; reason: string; subject: string; problems: string[] };

export type StatusReport = {
  prefix: string;
  /** When the report was read (ISO 8601): what the waiting times count up to. */
  at: string;
  stream: { name: string; messages: number; bytes: number };
  consumer: ({ name: string } & ConsumerLag) | { name: string; error: string };
  deadLetters: { count: number; byReason: Record<string, number>; last: DeadLetterSummary[] };
  /** The nodes with a repair request pending, by name; an `error` text when the repair stream could not be read. */
  waiting: { count: number; nodes: string[] } | { error: string };
  nodes: NodeStatus[];
};

export type StatusDeps = {
  bus: Bus;
  agentFor(node: string): AgentClient | undefined;
  /** Nodes the configuration names (BERTH_CONSUL_AGENTS), shown even before any event. */
  configuredNodes: readonly string[];
  mapping: MappingSettings;
  lastDeadLetters: number;
  /** The clock the waiting times are counted on (tests). */
  now?: () => Date;
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

function nodeWaiting(request: WaitingNode | undefined, at: Date): NodeWaiting | null {
  if (request === undefined) return null;
  return {
    since: request.since.toISOString(),
    seconds: Math.max(0, Math.round((at.getTime() - request.since.getTime()) / 1000)),
    for: waitingKind(request.reason),
    reason: request.reason,
    requested: request.at.toISOString(),
  };
}

async function nodeStatus(
  deps: StatusDeps,
  name: string,
  state: { latest: Map<string, ContainerEvent>; snapshot: bigint | undefined },
  waiting: NodeWaiting | null,
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
  if (!agent) return { ...base, services: null, drift: null, agent: "no agent configured", waiting };
  try {
    const actual = await agent.services(ownedByNode(name));
    const drift = nodeDrift(state.latest, actual, deps.mapping);
    return { ...base, services: Object.keys(actual).length, drift, agent: "ok", waiting };
  } catch (err) {
    return { ...base, services: null, drift: null, agent: (err as Error).message, waiting };
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
  // Read before the state, so a node repaired meanwhile shows as waiting at worst, never the reverse.
  const requests = await waitingNodes(bus).then(
    (list) => new Map(list.map((w) => [w.node, w])),
    (err: unknown) => new Error(`cannot read the repair requests: ${(err as Error).message}`),
  );
  const at = (deps.now ?? (() => new Date()))();
  const state = await readState(bus);
  const waitingNames = requests instanceof Error ? [] : [...requests.keys()];
  for (const node of [...deps.configuredNodes, ...waitingNames])
    if (!state.has(node)) state.set(node, { latest: new Map(), snapshot: undefined });
  const waitingOf = (name: string) => (requests instanceof Error ? null : nodeWaiting(requests.get(name), at));
  const nodes = await Promise.all([...state.keys()].sort().map((name) => nodeStatus(deps, name, state.get(name)!, waitingOf(name))));
  return {
    prefix: bus.prefix,
    at: at.toISOString(),
    stream: { name: names.events, messages: counts.events.messages, bytes: counts.events.bytes },
    consumer,
    deadLetters: { count: counts.deadLetters.messages, byReason, last },
    waiting: requests instanceof Error ? { error: requests.message } : { count: waitingNames.length, nodes: waitingNames.sort() },
    nodes,
  };
}
