// Waiting for what a process cannot work without (the Docker engine, NATS, JetStream): retried
// until it answers or the process is told to stop. Said once with the reason and a hint (again for
// a new reason), "still waiting" at growing intervals while it lasts, and when it is over — never a
// line a second.
import { setTimeout as sleep } from "node:timers/promises";
import { createLogger, type Logger } from "./log.ts";

export type Waiting = {
  log: Logger;
  /** Aborted when the process is told to stop: the wait ends at once, rejecting with the signal's reason. */
  signal: AbortSignal;
};

export type WaitOptions = Waiting & {
  /** What is waited for, as the lines name it: "Docker", "NATS". */
  what: string;
  /** What the operator may check, given the reason of the failure. */
  hint: (reason: string) => string;
  /** A failure no retry can fix: thrown at once. */
  fatal?: (err: unknown) => boolean;
  /** The pause after the first failure, doubled after each one up to `maxRetryMs`. */
  firstRetryMs?: number;
  maxRetryMs?: number;
  /** The reason of a failure as the lines say it (default: the error's message), in the field `reasonField` (default: reason). */
  reasonOf?: (err: unknown) => string;
  reasonField?: string;
  /** Called with a value the attempt produced after the wait was given up (a connection to close). */
  discard?: (value: unknown) => void;
};

/** Never aborted, never logged: for callers that do not wait (tests, the bench, berth status). */
export const NOT_WAITING: Waiting = { log: createLogger("berth", "silent"), signal: new AbortController().signal };

/** The first "still waiting" line comes this long after the first one; each next one twice as long after. */
const REPEAT_FIRST_MS = 10_000;
const REPEAT_MAX_MS = 10 * 60_000;

const seconds = (ms: number) => Math.round(ms / 100) / 10;

/** Settles as `work`, or rejects with the signal's reason as soon as it aborts (`discard` gets a late result). */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal, discard: (value: T) => void = () => undefined): Promise<T> {
  if (signal.aborted) {
    work.then(discard, () => undefined);
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      work.then(discard, () => undefined);
      reject(signal.reason as Error);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err); // eslint-disable-line @typescript-eslint/prefer-promise-reject-errors -- the attempt's own error, as it came
      },
    );
  });
}

/** Runs `attempt` until it succeeds; see the file's head for what is logged. */
export async function waitUntilUp<T>(attempt: () => Promise<T>, o: WaitOptions): Promise<T> {
  const started = performance.now();
  let pause = o.firstRetryMs ?? 250;
  let lastReason: string | undefined;
  let repeatAfter = REPEAT_FIRST_MS;
  let lastLogged = 0;
  for (;;) {
    o.signal.throwIfAborted();
    try {
      const value = await untilAborted(attempt(), o.signal, o.discard);
      if (lastReason !== undefined) o.log.info({ waited_s: seconds(performance.now() - started) }, `${o.what} answered: waiting is over`);
      return value;
    } catch (err) {
      if (o.signal.aborted || o.fatal?.(err)) throw err;
      const reason = o.reasonOf?.(err) ?? (err instanceof Error ? err.message : String(err));
      const field = o.reasonField ?? "reason";
      const now = performance.now();
      if (reason !== lastReason) {
        // The first failure, or a new reason: what it is and what to check.
        o.log.warn({ [field]: reason, hint: o.hint(reason) }, `waiting for ${o.what}`);
        lastLogged = now;
      } else if (now - lastLogged >= repeatAfter) {
        o.log.warn({ [field]: reason, waited_s: seconds(now - started) }, `still waiting for ${o.what}`);
        repeatAfter = Math.min(repeatAfter * 2, REPEAT_MAX_MS);
        lastLogged = now;
      }
      lastReason = reason;
    }
    await sleep(pause, undefined, { signal: o.signal }).catch(() => o.signal.throwIfAborted());
    pause = Math.min(pause * 2, o.maxRetryMs ?? 2000);
  }
}
