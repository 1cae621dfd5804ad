// Polling helper for integration tests.
import { inspect } from "node:util";

export type WaitOptions = {
  timeoutMs?: number; // default 10 s
  intervalMs?: number; // default 20 ms
  what?: string; // named in the timeout error
  signal?: AbortSignal; // abort early (e.g. the process being waited on died)
};

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_INTERVAL_MS = 20;

/**
 * Polls `probe` until it returns a truthy value and resolves with it. A probe that throws counts
 * as "not yet". Each probe call is raced against the deadline, so a hanging probe cannot hang
 * the wait. On the deadline it throws an Error naming `what` and the last value or error seen
 * (the last error is also the `cause`).
 */
export async function waitFor<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, opts: WaitOptions = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const intervalMs = opts.intervalMs ?? DEFAULT_INTERVAL_MS;
  const what = opts.what ?? "condition";
  const deadline = Date.now() + timeoutMs;
  let last: { value: unknown } | { error: unknown } | undefined;
  for (;;) {
    opts.signal?.throwIfAborted();
    const left = deadline - Date.now();
    if (left <= 0) break;
    try {
      const value = await within(Promise.resolve().then(probe), left, opts.signal);
      if (value) return value;
      last = { value };
    } catch (error) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      if (error !== TIMED_OUT) last = { error };
    }
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())), opts.signal);
  }
  const seen =
    last === undefined
      ? "probe never completed"
      : "error" in last
        ? `last error: ${describe(last.error)}`
        : `last value: ${inspect(last.value, { depth: 2, breakLength: Infinity })}`;
  const cause = last !== undefined && "error" in last ? { cause: last.error } : undefined;
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${seen}`, cause);
}

/** What `within` rejects with when the time is up (never seen outside this file). */
const TIMED_OUT = new Error("timed out");

function within<T>(p: Promise<T>, ms: number, signal: AbortSignal | undefined): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the abort reason is passed on as the aborter gave it
    const onAbort = () => finish(() => reject(signal?.reason));
    const timer = setTimeout(() => finish(() => reject(TIMED_OUT)), ms);
    const finish = (f: () => void) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      f();
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => finish(() => resolve(v)),
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- p's rejection is passed on as it is
      (e: unknown) => finish(() => reject(e)),
    );
  });
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return within(new Promise<void>(() => {}), ms, signal).catch((e: unknown) => {
    if (e !== TIMED_OUT) throw e;
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : inspect(error);
}
