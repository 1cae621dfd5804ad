// What a handler's message handling needs, given by handler/main.ts (and by unit tests).
import type { Logger } from "../common/log.ts";
import type { Tracer } from "../common/tracing/index.ts";
import type { StateBucket } from "../common/nats/index.ts";
import type { AgentClient } from "../consul/client.ts";
import type { OnUnknown } from "../schemas/index.ts";
import type { DeadLetterReason, DeadLetterSource } from "./dead-letter.ts";
import type { HandlerMetrics } from "./metrics.ts";
import type { NodeGate } from "./node-gate.ts";
import type { MappingSettings } from "../mapping/settings.ts";

export type HandlerDeps = {
  prefix: string;
  bucket: StateBucket;
  /** The agent of a node from configuration, or undefined when this handler has none for it. */
  agentFor(node: string): AgentClient | undefined;
  deadLetter(source: DeadLetterSource, reason: DeadLetterReason, problems: string[]): Promise<void>;
  /** Asks, durably, for the node to be repaired from the state bucket once its agent answers. */
  requestRepair(node: string, reason: string, since: number): Promise<void>;
  /** Which nodes' agents not to call now: one per handler process. */
  gate: NodeGate;
  log: Logger;
  /** BERTH_INTERNAL, BERTH_EXPLICIT, … (mapping/settings.ts); registrator's defaults when absent. */
  mapping?: MappingSettings;
  /** Prometheus counters (handler/metrics.ts); nothing is recorded when absent. */
  metrics?: HandlerMetrics;
  /** Told of each attribute or field of a message berth does not know (handler/unknown-fields.ts); ignored when absent. */
  onUnknown?: OnUnknown;
  /** Continues each event's trace (common/tracing/); none when absent. */
  tracer?: Tracer;
};
