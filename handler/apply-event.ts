// A container event: its state recorded (P3), then applied to its node's agent through the gate.
import { logMs } from "../common/log.ts";
import { NO_TRACER, type Span } from "../common/tracing/index.ts";
import { NOTHING_APPLIED, NOTHING_LISTED, applyToAgent, type Applied } from "./apply.ts";
import type { AgentClient } from "../consul/client.ts";
import type { HandlerDeps } from "./deps.ts";
import { gateClosed, throughGate } from "./gate-call.ts";
import { tracedAgent } from "./trace-agent.ts";
import { applyLatest, recordIfNewer, stateKey, stoppedAt } from "./latest.ts";
import { NO_HANDLER_METRICS } from "./metrics.ts";
import { DEFAULT_MAPPING_SETTINGS } from "../mapping/settings.ts";
import type { ContainerEvent } from "../schemas/index.ts";

type Outcome = { applied: Applied; at: number } | { error: unknown };

/** A start this recent (Docker's clock against this handler's, either way) has just happened. */
const JUST_HAPPENED_MS = 2_000;

/**
 * Records the event as its container's state unless a newer one is stored, then applies the latest
 * stored state and re-reads it (applyLatest). A start that has just happened is most often its
 * container's first event, so its services are registered while its state is recorded — one round
 * trip before the registration instead of two. Whatever the record finds (a newer stop, or a key
 * that was there), the apply and its re-read that follow make the agent hold the latest state, as
 * without it. An older start (a redelivery, the emitter's list of what runs at its start) takes the
 * plain path, which lists the agent first: a start repeated costs no write, and no Consul watch fires.
 * `received`: when the message arrived, for the step timings logged at debug level.
 */
export async function applyContainerEvent(deps: HandlerDeps, agent: AgentClient, event: ContainerEvent, received: number): Promise<void> {
  // The emitter's trace continued (`traceparent`), from the message's arrival to the agent holding the result.
  const trace = (deps.tracer ?? NO_TRACER).start("berth apply", {
    parent: event.traceparent,
    kind: "consumer",
    start: received,
    attributes: {
      "cloudevents.event_id": event.id,
      "cloudevents.event_type": event.type,
      "container.id": event.subject,
      "berth.node": event.data.node.name,
    },
  });
  try {
    await applyTraced(deps, trace.recording ? tracedAgent(agent, trace) : agent, event, received, trace);
  } catch (err) {
    trace.fail(err);
    throw err;
  } finally {
    trace.end();
  }
}

async function applyTraced(deps: HandlerDeps, agent: AgentClient, event: ContainerEvent, received: number, trace: Span): Promise<void> {
  const settings = deps.mapping ?? DEFAULT_MAPPING_SETTINGS;
  const node = event.data.node.name;
  const decoded = performance.now();
  trace.child("decode", { start: received }).end(decoded);
  const eventMs = Number(BigInt(event.data.timeNano) / 1_000_000n);
  const age = Date.now() - eventMs;
  const early: Promise<Outcome> | undefined =
    event.type === "io.berth.container.started" && Math.abs(age) < JUST_HAPPENED_MS && gateClosed(deps, node) === undefined
      ? throughGate(deps, node, () => applyToAgent(agent, event, settings, NOTHING_LISTED)).then(
          (applied) => ({ applied, at: performance.now() }),
          (error: unknown) => ({ error }),
        )
      : undefined;
  // Node writes a request on a kept-alive connection in a nextTick, which waits for every promise
  // continuation queued before it runs: the record's JSON and JetStream publish went first, and on a
  // process just woken that held the registration back 1–2 ms (npm run bench, the quiet host).
  if (early) await new Promise<void>((resolve) => process.nextTick(resolve));
  const recorded = await recordIfNewer(deps.bucket, event);
  const stored = performance.now();
  trace.child("state record", { start: decoded }).end(stored);
  const outcome = early && (await early);
  let applied: Applied = NOTHING_APPLIED;
  let firstApplied = 0;
  let known: Parameters<typeof applyLatest>[4] = recorded;
  if (outcome && recorded?.created) {
    // The early registration was of the state now stored: only its re-read is left.
    if ("error" in outcome) throw outcome.error;
    ({ applied, at: firstApplied } = outcome);
    known = { ...recorded, applied: true };
  }
  const whenAbsent = () => stoppedAt(event, BigInt(event.data.timeNano));
  const rounds = await throughGate(deps, node, () =>
    applyLatest(
      deps.bucket,
      stateKey(node, event.subject),
      whenAbsent,
      async (latest, first) => {
        // A container's first state: the agent holds nothing of it yet, so there is nothing to list.
        applied = await applyToAgent(agent, latest, settings, first ? NOTHING_LISTED : undefined);
        firstApplied ||= performance.now();
      },
      known,
    ),
  );
  trace.child("state re-read", { start: firstApplied || stored, attributes: { "berth.rounds": rounds } }).end();
  const where = { node, container: event.subject };
  // Where the time goes, per event (LOG_LEVEL=debug): decode, the state's record, the agent's apply, the re-read.
  const timing = {
    decode_ms: logMs(decoded - received),
    record_ms: logMs(stored - decoded),
    apply_ms: logMs(firstApplied - decoded),
    reread_ms: logMs(performance.now() - firstApplied),
    // The message's arrival on the machine's clock, to line up with the emitter's lines (npm run bench).
    received_at_ms: logMs(performance.timeOrigin + received),
  };
  deps.log.debug({ ...where, type: event.type, early: outcome !== undefined, ...timing }, "apply timing");
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
  (deps.metrics ?? NO_HANDLER_METRICS).applied(event.type, node, (Date.now() - eventMs) / 1000);
}
