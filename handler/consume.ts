import type { Logger } from "../common/log.ts";
import type { InboundMessage, StateBucket } from "../common/nats.ts";
import { SchemaError, decodeBerthEvent, parseSubject, type BerthEvent, type ContainerEvent } from "../schemas/index.ts";
import { NOTHING_APPLIED, applyToAgent, type Applied } from "./apply.ts";
import { ConsulError, type AgentClient } from "./consul.ts";
import type { DeadLetterReason } from "./dead-letter.ts";
import { NO_HANDLER_METRICS, type HandlerMetrics } from "./metrics.ts";
import { applyLatest, recordIfNewer, stateKey, stoppedAt } from "./latest.ts";
import { DEFAULT_MAPPING_SETTINGS, type MappingSettings } from "./settings.ts";
import { reconcileNode } from "./snapshot.ts";

export type HandlerDeps = {
  prefix: string;
  bucket: StateBucket;
  /** The agent of a node from configuration, or undefined when this handler has none for it. */
  agentFor(node: string): AgentClient | undefined;
  deadLetter(message: InboundMessage, reason: DeadLetterReason, problems: string[]): Promise<void>;
  log: Logger;
  /** BERTH_INTERNAL, BERTH_EXPLICIT, … (handler/settings.ts); registrator's defaults when absent. */
  mapping?: MappingSettings;
  /** Prometheus counters (handler/metrics.ts); nothing is recorded when absent. */
  metrics?: HandlerMetrics;
};

const RETRY_BASE_MS = 500;
const RETRY_MAX_MS = 30_000;

/** Backoff for the n-th delivery: 0.5 s, 1 s, 2 s … capped at 30 s. */
export function retryDelay(deliveryCount: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(0, deliveryCount - 1));
}

class Rejected extends Error {
  readonly reason: DeadLetterReason;
  readonly problems: string[];
  constructor(reason: DeadLetterReason, problems: string[]) {
    super(`${reason}: ${problems.join("; ")}`);
    this.reason = reason;
    this.problems = problems;
  }
}

function checkRouting(deps: HandlerDeps, message: InboundMessage, event: BerthEvent): AgentClient {
  const node = event.data.node.name;
  const subject = parseSubject(deps.prefix, message.subject);
  if (!subject || subject.node !== node || `io.berth.${subject.kind}` !== event.type) {
    throw new Rejected("subject-mismatch", [`subject ${message.subject} does not match node ${node} and type ${event.type}`]);
  }
  const agent = deps.agentFor(node);
  if (!agent) throw new Rejected("unknown-node", [`no Consul agent configured for node ${node}`]);
  return agent;
}

/**
 * One message, one outcome, one info line: applied → ack; never valid → dead letter + ack;
 * agent unreachable or failing → nak with backoff so it is redelivered, never dropped.
 */
export async function handleMessage(deps: HandlerDeps, message: InboundMessage): Promise<void> {
  let event: BerthEvent | undefined;
  try {
    event = decodeBerthEvent(message.data);
    const agent = checkRouting(deps, message, event);
    if (event.type === "io.berth.node.snapshot") {
      const result = await reconcileNode(deps.bucket, agent, event, deps.mapping ?? DEFAULT_MAPPING_SETTINGS, deps.metrics);
      message.ack();
      deps.log.info({ node: event.subject, containers: event.data.containers.length, ...result }, "reconciled");
      return;
    }
    await applyContainerEvent(deps, agent, event);
    message.ack();
  } catch (err) {
    await settleFailure(deps, message, event, err);
  }
}

async function applyContainerEvent(deps: HandlerDeps, agent: AgentClient, event: ContainerEvent): Promise<void> {
  const recorded = await recordIfNewer(deps.bucket, event);
  let applied: Applied = NOTHING_APPLIED;
  const key = stateKey(event.data.node.name, event.subject);
  const whenAbsent = () => stoppedAt(event, BigInt(event.data.timeNano));
  const rounds = await applyLatest(
    deps.bucket,
    key,
    whenAbsent,
    async (latest) => {
      applied = await applyToAgent(agent, latest, deps.mapping ?? DEFAULT_MAPPING_SETTINGS);
    },
    recorded,
  );
  const where = { node: event.data.node.name, container: event.subject };
  if (applied.warnings.length > 0) deps.log.warn({ ...where, warnings: applied.warnings }, "mapping warnings");
  deps.log.info(
    {
      ...where,
      type: event.type,
      services: applied.registered,
      unchanged: applied.unchanged,
      removed: applied.deregistered,
      kept: applied.kept,
      rounds,
    },
    "applied",
  );
  const latencySeconds = (Date.now() - Number(BigInt(event.data.timeNano) / 1_000_000n)) / 1000;
  (deps.metrics ?? NO_HANDLER_METRICS).applied(event.type, event.data.node.name, latencySeconds);
}

async function settleFailure(deps: HandlerDeps, message: InboundMessage, event: BerthEvent | undefined, err: unknown) {
  const where = { subject: message.subject, container: event?.subject, delivery: message.deliveryCount };
  const metrics = deps.metrics ?? NO_HANDLER_METRICS;
  const node = event?.data.node.name ?? parseSubject(deps.prefix, message.subject)?.node ?? "";
  if (err instanceof ConsulError) metrics.agentError(node);
  let rejection: Rejected | undefined;
  if (err instanceof Rejected) rejection = err;
  else if (err instanceof SchemaError) rejection = new Rejected("schema", err.problems);
  else if (err instanceof ConsulError && !err.retryable)
    rejection = new Rejected("agent-rejected", [`${err.op} ${err.status}: ${err.agentText}`]);
  if (rejection) {
    try {
      await deps.deadLetter(message, rejection.reason, rejection.problems);
      message.ack();
      deps.log.warn({ ...where, reason: rejection.reason, problems: rejection.problems }, "dead-lettered");
      metrics.deadLettered(rejection.reason, node);
      return;
    } catch (dlqErr) {
      err = dlqErr;
    }
  }
  const delay = retryDelay(message.deliveryCount);
  message.nak(delay);
  metrics.retried(node);
  const code = (err as { code?: unknown }).code;
  deps.log.warn({ ...where, code, err: (err as Error).message, retry_ms: delay }, "retrying");
}

/** Works on up to `concurrency` messages at once; one failing message never ends the loop. */
export async function consumeLoop(deps: HandlerDeps, messages: AsyncIterable<InboundMessage>, concurrency: number): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  for await (const message of messages) {
    const work = handleMessage(deps, message).finally(() => inFlight.delete(work));
    inFlight.add(work);
    if (inFlight.size >= concurrency) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}
