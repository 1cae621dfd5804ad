import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../common/log.ts";
import { publishStored, publishDurable, type Bus } from "../common/nats/index.ts";
import { NO_EMITTER_METRICS, type EmitterMetrics } from "./metrics.ts";
import {
  SchemaError,
  deadLetterSubject,
  encodeDeadLetter,
  parseBerthEvent,
  subjectFor,
  toDeadLetter,
  type BerthEvent,
} from "../schemas/index.ts";

export type Publish = (event: BerthEvent) => Promise<void>;

const RETRY_MIN_MS = 100;
/**
 * The longest wait between two tries. While a stream elects a leader (4–9 s after a server crashed)
 * a publish is refused at once: tried twice a second, an event is stored within half a second of
 * the election, never a doubling backoff's step later. While NATS is unreachable each try waits for
 * its own request timeout first, so this never floods a server coming back.
 */
const RETRY_MAX_MS = 500;
const LOG_EVERY = 20;

/**
 * The schema refuses environment variables other than SERVICE_* (they hold passwords): an event it
 * refused for carrying one must not take it to the bus inside the dead letter (its payload) either.
 */
function withoutForeignEnv(event: BerthEvent): unknown {
  if (event.type === "io.berth.node.snapshot") return event;
  // Refused by the schema, so any shape: read defensively.
  const env = (event as { data?: { container?: { env?: unknown } } }).data?.container?.env;
  if (env === null || typeof env !== "object") return event;
  const kept = Object.fromEntries(Object.entries(env).filter(([key]) => key.startsWith("SERVICE_")));
  return { ...event, data: { ...event.data, container: { ...event.data.container, env: kept } } };
}

/**
 * Validates the emitter's own output, then publishes and waits for the stream's ack. While NATS
 * is unreachable it retries with backoff until it succeeds or `signal` aborts: an event is never
 * dropped for want of a bus. An event that breaks the contract is dead-lettered with the reason.
 */
export function eventPublisher(bus: Bus, log: Logger, signal: AbortSignal, metrics: EmitterMetrics = NO_EMITTER_METRICS): Publish {
  return async (event) => {
    const bytes = new TextEncoder().encode(JSON.stringify(event));
    try {
      parseBerthEvent(event);
    } catch (err) {
      if (!(err instanceof SchemaError)) throw err;
      log.error({ code: err.code, container: event.subject, problems: err.problems }, "dead-lettered");
      const refused = { subject: subjectFor(bus.prefix, event), data: new TextEncoder().encode(JSON.stringify(withoutForeignEnv(event))) };
      const letter = toDeadLetter("emitter-schema", err.problems, refused);
      await publishStored(bus, deadLetterSubject(bus.prefix, "schema"), encodeDeadLetter(letter));
      const node = (event as { data?: { node?: { name?: unknown } } }).data?.node?.name;
      metrics.deadLettered(letter.reason, typeof node === "string" ? node : "");
      return;
    }
    const subject = subjectFor(bus.prefix, event);
    for (let attempt = 0; ; attempt++) {
      try {
        const ack = await publishDurable(bus, subject, bytes, event.id);
        const about =
          event.type === "io.berth.node.snapshot"
            ? { containers: event.data.containers.length }
            : { container: event.subject, name: event.data.container.name };
        log.info({ ...about, type: event.type, seq: ack.seq, duplicate: ack.duplicate }, "published");
        if (!ack.duplicate) metrics.published(event.type, event.data.node.name);
        return;
      } catch (err) {
        if (signal.aborted) throw err;
        const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** attempt);
        // The first failure, then one line every LOG_EVERY tries: tries come twice a second.
        if (attempt % LOG_EVERY === 0)
          log.warn({ container: event.subject, err: (err as Error).message, tries: attempt + 1, retry_ms: delay }, "publish failed");
        metrics.publishRetried(event.data.node.name);
        await sleep(delay, undefined, { signal }).catch(() => undefined);
      }
    }
  };
}
