// The handler's Prometheus metrics (see README "Operating berth"). Recording functions only:
// the registry renders them; `NO_HANDLER_METRICS` records nothing (unit tests, no metrics port).
// Reconciliation reports through `reconcileFound` / `reconcileFixed`.
import { deadLetterCounter, type Registry } from "../common/metrics.ts";

export type HandlerMetrics = {
  /** A message applied to its node's agent; `latencySeconds`: Docker's event time → the agent's last answer. */
  applied(type: string, node: string, latencySeconds: number): void;
  deadLettered(reason: string, node: string): void;
  /** A message nak'ed to be delivered again (agent down, 5xx, NATS trouble). */
  retried(node: string): void;
  /** A failed call to a node's agent (unreachable, or any non-success answer). */
  agentError(node: string): void;
  /** Differences between a node's agent and its containers found by reconciliation (missing + changed + stale). */
  reconcileFound(node: string, count: number): void;
  /** Of those, the ones reconciliation fixed. */
  reconcileFixed(node: string, count: number): void;
  /** An event recorded and left to its node's repair: the agent could not take it now (P7). */
  deferred(node: string): void;
  /** A repair of a node tried: `done`, or `waiting` (its agent still could not take it). */
  repaired(node: string, outcome: "done" | "waiting"): void;
  /** A field or attribute of a received message berth does not know, ignored (handler/unknown-fields.ts bounds `name`). */
  unknownField(where: string, name: string): void;
};

export const NO_HANDLER_METRICS: HandlerMetrics = Object.freeze({
  applied: () => undefined,
  deadLettered: () => undefined,
  retried: () => undefined,
  agentError: () => undefined,
  reconcileFound: () => undefined,
  reconcileFixed: () => undefined,
  deferred: () => undefined,
  repaired: () => undefined,
  unknownField: () => undefined,
});

/** Seconds, from 1 ms (the whole path's floor here is ~2 ms) to 5 min (an agent that was down). */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] as const;

export function handlerMetrics(registry: Registry): HandlerMetrics {
  const applied = registry.counter("berth_events_applied_total", "Events applied to their node's Consul agent", ["type", "node"]);
  const latency = registry.histogram(
    "berth_event_to_agent_seconds",
    "Time from the Docker event to the Consul agent's answer, for each applied event",
    ["node"],
    LATENCY_BUCKETS,
  );
  const dead = deadLetterCounter(registry);
  const retries = registry.counter("berth_retries_total", "Messages handed back to be delivered again later", ["node"]);
  const agentErrors = registry.counter("berth_agent_errors_total", "Failed calls to a node's Consul agent", ["node"]);
  const found = registry.counter(
    "berth_reconcile_differences_found_total",
    "Differences between an agent and its node's containers found by reconciliation",
    ["node"],
  );
  const fixed = registry.counter("berth_reconcile_differences_fixed_total", "Differences reconciliation fixed", ["node"]);
  const deferred = registry.counter(
    "berth_events_deferred_total",
    "Events recorded and left to their node's repair: its agent could not take them then",
    ["node"],
  );
  const repairs = registry.counter("berth_repairs_total", "Repairs of a node tried, by outcome (done, or waiting for its agent)", [
    "node",
    "outcome",
  ]);
  const unknown = registry.counter(
    "berth_unknown_fields_total",
    "Attributes and fields of received messages berth does not know: ignored (never stored, never forwarded), by where and name",
    ["where", "name"],
  );
  return {
    applied(type, node, latencySeconds) {
      applied.inc({ type, node });
      latency.observe({ node }, Math.max(0, latencySeconds));
    },
    deadLettered: (reason, node) => dead.inc({ reason, node }),
    retried: (node) => retries.inc({ node }),
    agentError: (node) => agentErrors.inc({ node }),
    reconcileFound: (node, count) => found.inc({ node }, count),
    reconcileFixed: (node, count) => fixed.inc({ node }, count),
    deferred: (node) => deferred.inc({ node }),
    repaired: (node, outcome) => repairs.inc({ node, outcome }),
    unknownField: (where, name) => unknown.inc({ where, name }),
  };
}

/** How long a scrape waits for NATS to answer (a request to a server that is away would wait 5 s). */
export const LAG_READ_TIMEOUT_MS = 1_000;

/** `read()`, or `fallback` once it takes longer than LAG_READ_TIMEOUT_MS or fails: /metrics stays quick. */
async function readSoon<T>(read: () => Promise<T>, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error("read timed out")), LAG_READ_TIMEOUT_MS)));
  return Promise.race([read(), late])
    .catch(() => fallback)
    .finally(() => clearTimeout(timer));
}

/** The shared consumer's backlog, read from NATS at each scrape. */
export function addConsumerLag(registry: Registry, read: () => Promise<{ pending: number; ackPending: number }>): void {
  const pending = registry.gauge(
    "berth_consumer_pending",
    "Events in the stream not yet delivered to any handler (consumer num_pending)",
    [],
  );
  const ackPending = registry.gauge("berth_consumer_ack_pending", "Events delivered to a handler and not yet acknowledged", []);
  registry.onCollect(async () => {
    // NaN rather than a stale figure while NATS cannot be asked.
    const lag = await readSoon(read, { pending: NaN, ackPending: NaN });
    pending.set({}, lag.pending);
    ackPending.set({}, lag.ackPending);
  });
}

/** What a node waits for, as a label: `unreachable`, `slow` or `error` (the agent answered a failure). */
export function waitingKind(reason: string): "unreachable" | "slow" | "error" {
  return reason.startsWith("agent unreachable") ? "unreachable" : reason.startsWith("agent slow") ? "slow" : "error";
}

/** The nodes whose changes wait for their agent (a repair request is pending), read from NATS at each scrape. */
export function addWaitingNodes(registry: Registry, read: () => Promise<{ node: string; reason: string; since: Date }[]>): void {
  const waiting = registry.gauge(
    "berth_node_waiting_seconds",
    "Nodes whose changes wait for their agent: seconds since the trouble began, by what they wait for",
    ["node", "waiting_for"],
  );
  const count = registry.gauge("berth_nodes_waiting", "Nodes whose changes wait for their agent (NaN: NATS could not be asked)", []);
  registry.onCollect(async () => {
    const nodes = await readSoon(read, undefined);
    waiting.clear();
    count.set({}, nodes?.length ?? NaN);
    for (const n of nodes ?? [])
      waiting.set({ node: n.node, waiting_for: waitingKind(n.reason) }, Math.max(0, (Date.now() - n.since.getTime()) / 1000));
  });
}
