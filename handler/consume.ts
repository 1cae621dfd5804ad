// One message, one outcome, one info line: applied → ack; never valid → dead letter + ack; the
// node's agent unable to take it now → recorded, left to a repair of the node, ack (P7); NATS
// trouble → nak with backoff, so it is delivered again, never dropped.
import type { Logger } from "../common/log.ts";
import type { InboundMessage, StateBucket } from "../common/nats/index.ts";
import {
  SchemaError,
  decodeBerthEvent,
  parseSubject,
  subjectFor,
  type BerthEvent,
  type ContainerEvent,
  type NodeSnapshot,
} from "../schemas/index.ts";
import { NOTHING_APPLIED, NOTHING_LISTED, applyToAgent, type Applied } from "./apply.ts";
import { ConsulError, type AgentClient } from "./consul.ts";
import type { DeadLetterReason, DeadLetterSource } from "./dead-letter.ts";
import { applyLatest, recordIfNewer, stateKey, stoppedAt } from "./latest.ts";
import { NO_HANDLER_METRICS, type HandlerMetrics } from "./metrics.ts";
import type { NodeGate } from "./node-gate.ts";
import { repairNode } from "./repair.ts";
import { DEFAULT_MAPPING_SETTINGS, type MappingSettings } from "./settings.ts";
import { pruneBehind, recordNodeSnapshot } from "./snapshot.ts";

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

/** The agent could not take a change now (unreachable, failing, slow): the node's repair will bring it. */
class Deferred extends Error {}

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

/** Why waiting may help, in a line for people: `agent unreachable: …` or `agent answered 503: …`. */
export const troubleOf = (err: ConsulError) =>
  err.status === 0 ? `agent unreachable: ${err.agentText}` : `agent answered ${err.status}: ${err.agentText}`;

/**
 * Runs `work` against the node's agent unless the gate says not to now (it failed a moment ago,
 * or — unless `evenIfBusy`, as a repair is — its calls pile up unanswered); a failure waiting can
 * fix closes the gate for a moment. Either way the change is then the node's repair's to bring.
 */
export async function throughGate<T>(deps: HandlerDeps, node: string, work: () => Promise<T>, evenIfBusy = false): Promise<T> {
  const blocked = deps.gate.blocked(node) ?? (evenIfBusy ? undefined : deps.gate.busy(node));
  if (blocked !== undefined) throw new Deferred(blocked);
  const leave = deps.gate.enter(node);
  try {
    const result = await work();
    deps.gate.succeeded(node);
    return result;
  } catch (err) {
    if (!(err instanceof ConsulError) || !err.retryable) throw err;
    deps.gate.failed(node, troubleOf(err));
    throw new Deferred(troubleOf(err), { cause: err });
  } finally {
    leave();
  }
}

export async function handleMessage(deps: HandlerDeps, message: InboundMessage): Promise<void> {
  let event: BerthEvent | undefined;
  try {
    event = decodeBerthEvent(message.data);
    const agent = checkRouting(deps, message, event);
    if (event.type === "io.berth.node.snapshot") await reconcile(deps, agent, event);
    else await applyContainerEvent(deps, agent, event);
    message.ack();
  } catch (err) {
    await settleFailure(deps, message, event, err);
  }
}

async function applyContainerEvent(deps: HandlerDeps, agent: AgentClient, event: ContainerEvent): Promise<void> {
  const settings = deps.mapping ?? DEFAULT_MAPPING_SETTINGS;
  const node = event.data.node.name;
  const recorded = await recordIfNewer(deps.bucket, event);
  let applied: Applied = NOTHING_APPLIED;
  const key = stateKey(node, event.subject);
  const whenAbsent = () => stoppedAt(event, BigInt(event.data.timeNano));
  const rounds = await throughGate(deps, node, () =>
    applyLatest(
      deps.bucket,
      key,
      whenAbsent,
      async (latest, first) => {
        // A container's first state: the agent holds nothing of it yet, so there is nothing to list.
        applied = await applyToAgent(agent, latest, settings, first ? NOTHING_LISTED : undefined);
      },
      recorded,
    ),
  );
  const where = { node, container: event.subject };
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
  (deps.metrics ?? NO_HANDLER_METRICS).applied(event.type, node, latencySeconds);
}

/** A snapshot: the bucket's half (record, stop what it no longer lists, prune), then the agent's (repair). */
async function reconcile(deps: HandlerDeps, agent: AgentClient, snapshot: NodeSnapshot): Promise<void> {
  const settings = deps.mapping ?? DEFAULT_MAPPING_SETTINGS;
  const node = snapshot.data.node.name;
  const recorded = await recordNodeSnapshot(deps.bucket, snapshot, settings);
  if (!recorded) {
    deps.log.info({ node, outdated: true }, "reconciled");
    return;
  }
  const pruned = await pruneBehind(deps.bucket, recorded.prunable);
  const repairDeps = { bucket: deps.bucket, agent, settings, refused: refusedBy(deps), ...(deps.metrics ? { metrics: deps.metrics } : {}) };
  const result = await throughGate(deps, node, () =>
    repairNode(repairDeps, snapshot.data.node, recorded.state, BigInt(snapshot.data.timeNano)),
  );
  deps.log.info({ node, containers: snapshot.data.containers.length, stopped: recorded.stopped, pruned, ...result }, "reconciled");
}

/** Dead-letters a container the agent refused for good while a node was being repaired; the rest go on. */
export function refusedBy(deps: HandlerDeps) {
  return async (state: ContainerEvent, err: ConsulError) => {
    const source = { subject: subjectFor(deps.prefix, state), data: new TextEncoder().encode(JSON.stringify(state)), deliveryCount: 1 };
    const problems = [`${err.op} ${err.status}: ${err.agentText}`];
    await deps.deadLetter(source, "agent-rejected", problems);
    deps.log.warn({ node: state.data.node.name, container: state.subject, reason: "agent-rejected", problems }, "dead-lettered");
    (deps.metrics ?? NO_HANDLER_METRICS).deadLettered("agent-rejected", state.data.node.name);
  };
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
      deps.log.warn({ ...where, reason: rejection.reason, problems: rejection.problems }, "dead-lettered");
      metrics.deadLettered(rejection.reason, node);
      return;
    }
  } catch (settleErr) {
    err = settleErr; // the repair request or dead letter could not be published: NATS trouble, retried below
  }
  const delay = retryDelay(message.deliveryCount);
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
