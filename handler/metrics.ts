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
};

export const NO_HANDLER_METRICS: HandlerMetrics = Object.freeze({
  applied: () => undefined,
  deadLettered: () => undefined,
  retried: () => undefined,
  agentError: () => undefined,
  reconcileFound: () => undefined,
  reconcileFixed: () => undefined,
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
  };
}

/** How long a scrape waits for NATS to tell the consumer's lag (a request to a server that is away would wait 5 s). */
export const LAG_READ_TIMEOUT_MS = 1_000;

/** The shared consumer's backlog, read from NATS at each scrape. */
export function addConsumerLag(registry: Registry, read: () => Promise<{ pending: number; ackPending: number }>): void {
  const pending = registry.gauge(
    "berth_consumer_pending",
    "Events in the stream not yet delivered to any handler (consumer num_pending)",
    [],
  );
  const ackPending = registry.gauge("berth_consumer_ack_pending", "Events delivered to a handler and not yet acknowledged", []);
  registry.onCollect(async () => {
    // NaN rather than a stale figure while NATS cannot be asked, and soon: /metrics stays quick.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>(
      (_, reject) => (timer = setTimeout(() => reject(new Error("lag read timed out")), LAG_READ_TIMEOUT_MS)),
    );
    const lag = await Promise.race([read(), late])
      .catch(() => ({ pending: NaN, ackPending: NaN }))
      .finally(() => clearTimeout(timer));
    pending.set({}, lag.pending);
    ackPending.set({}, lag.ackPending);
  });
}
