// One message, one outcome, one info line: applied → ack; never valid → dead letter + ack; the
// node's agent unable to take it now → recorded, left to a repair of the node, ack (P7); NATS
// trouble → nak with backoff, so it is delivered again, never dropped.
import { isTransient, type InboundMessage } from "../common/nats/index.ts";
import { SchemaError, decodeBerthEvent, parseSubject, type BerthEvent } from "../schemas/index.ts";
import { applyContainerEvent } from "./apply-event.ts";
import { reconcile } from "./apply-snapshot.ts";
import { RefusedServices } from "./apply.ts";
import { ConsulError, type AgentClient } from "../consul/client.ts";
import type { DeadLetterReason } from "./dead-letter.ts";
import type { HandlerDeps } from "./deps.ts";
import { Deferred, gatedAgent } from "./gate-call.ts";
import { NO_HANDLER_METRICS } from "./metrics.ts";

export type { HandlerDeps };

const RETRY_BASE_MS = 500;
const RETRY_MAX_MS = 30_000;
/**
 * NATS trouble that passes by itself (a stream or the state bucket electing a leader after a server
 * crashed: 4–9 s) is tried again at least this often, so the message is applied within a second of
 * the election, not at the next step of a doubling backoff. What one handler holds bounds the retries.
 */
const NATS_RETRY_MAX_MS = 1_000;

/** Backoff for the n-th delivery: 0.5 s, 1 s, 2 s … capped at 30 s (at 1 s while NATS elects a leader). */
export function retryDelay(deliveryCount: number, transient = false): number {
  return Math.min(transient ? NATS_RETRY_MAX_MS : RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(0, deliveryCount - 1));
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
  return gatedAgent(deps.gate, node, agent);
}

export async function handleMessage(deps: HandlerDeps, message: InboundMessage): Promise<void> {
  let event: BerthEvent | undefined;
  const received = performance.now();
  try {
    event = decodeBerthEvent(message.data, deps.onUnknown);
    const agent = checkRouting(deps, message, event);
    if (event.type === "io.berth.node.snapshot") await reconcile(deps, agent, event);
    else await applyContainerEvent(deps, agent, event, received);
    message.ack();
  } catch (err) {
    await settleFailure(deps, message, event, err);
  }
}

async function settleFailure(deps: HandlerDeps, message: InboundMessage, event: BerthEvent | undefined, err: unknown) {
  const where = { subject: message.subject, container: event?.subject, delivery: message.deliveryCount };
  const metrics = deps.metrics ?? NO_HANDLER_METRICS;
  const node = event?.data.node.name ?? parseSubject(deps.prefix, message.subject)?.node ?? "";
  if (err instanceof ConsulError || err instanceof Deferred) metrics.agentError(node);
  try {
    if (err instanceof Deferred && event) {
      await deps.requestRepair(node, err.message, deps.gate.trouble(node)?.since ?? Date.now());
      message.ack();
      deps.log.warn({ ...where, node, type: event.type, waiting_for: err.message }, "deferred");
      metrics.deferred(node);
      return;
    }
    const rejection =
      err instanceof Rejected
        ? err
        : err instanceof SchemaError
          ? new Rejected("schema", err.problems)
          : err instanceof ConsulError && !err.retryable
            ? new Rejected("agent-rejected", [`${err.op} ${err.status}: ${err.agentText}`])
            : undefined;
    if (rejection) {
      await deps.deadLetter(message, rejection.reason, rejection.problems);
      message.ack();
      // What was applied besides the refused services (the others registered, stale ones removed).
      const besides =
        err instanceof RefusedServices
          ? { services: err.applied.registered, removed: err.applied.deregistered, warnings: err.applied.warnings }
          : {};
      deps.log.warn({ ...where, reason: rejection.reason, problems: rejection.problems, ...besides }, "dead-lettered");
      metrics.deadLettered(rejection.reason, node);
      return;
    }
  } catch (settleErr) {
    err = settleErr; // the repair request or dead letter could not be published: NATS trouble, retried below
  }
  const delay = retryDelay(message.deliveryCount, isTransient(err));
  message.nak(delay);
  metrics.retried(node);
  const code = (err as { code?: unknown }).code;
  deps.log.warn({ ...where, code, err: (err as Error).message, retry_ms: delay }, "retrying");
}

/** Works on up to `concurrency` messages at once; one failing message never ends the loop. */
export async function consumeLoop(
  messages: AsyncIterable<InboundMessage>,
  concurrency: number,
  handle: (message: InboundMessage) => Promise<void>,
): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  for await (const message of messages) {
    const work = handle(message).finally(() => inFlight.delete(work));
    inFlight.add(work);
    if (inFlight.size >= concurrency) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}
