// The emitter's Prometheus metrics (see README "Operating berth"). Recording functions only:
// the registry renders them; `NO_EMITTER_METRICS` records nothing (tests, BERTH_METRICS_PORT unset).
import { deadLetterCounter, type Registry } from "../common/metrics.ts";

export type EmitterMetrics = {
  /** An event stored in the stream (a duplicate JetStream dropped is not counted). */
  published(type: string, node: string): void;
  /** A publish that failed (NATS away) and will be tried again. */
  publishRetried(node: string): void;
  /** An event that broke the wire contract and went to the dead-letter stream instead. */
  deadLettered(reason: string, node: string): void;
  /** The Docker event stream is open (1) or being reopened (0). */
  dockerConnected(node: string, up: boolean): void;
};

export const NO_EMITTER_METRICS: EmitterMetrics = Object.freeze({
  published: () => undefined,
  publishRetried: () => undefined,
  deadLettered: () => undefined,
  dockerConnected: () => undefined,
});

export function emitterMetrics(registry: Registry): EmitterMetrics {
  const published = registry.counter("berth_events_published_total", "Events the emitter stored in the JetStream stream", ["type", "node"]);
  const retries = registry.counter("berth_publish_retries_total", "Publishes retried because NATS did not acknowledge them", ["node"]);
  const dead = deadLetterCounter(registry);
  const docker = registry.gauge("berth_docker_connected", "1 while the Docker event stream is open", ["node"]);
  return {
    published: (type, node) => published.inc({ type, node }),
    publishRetried: (node) => retries.inc({ node }),
    deadLettered: (reason, node) => dead.inc({ reason, node }),
    dockerConnected: (node, up) => docker.set({ node }, up ? 1 : 0),
  };
}
