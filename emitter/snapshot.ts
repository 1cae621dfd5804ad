import { setInterval } from "node:timers/promises";
import { toNodeSnapshot } from "../schemas/index.ts";
import type { WatchDeps } from "./deps.ts";

/** Now, in nanoseconds, truncated to the millisecond: earlier rather than later, which is the safe side. */
export const nowNanos = () => BigInt(Date.now()) * 1_000_000n;

/**
 * Publishes the node's running containers as of a time taken *before* listing them: anything the
 * handlers believe running that is not listed, and whose last event is older, has stopped.
 */
export async function emitSnapshot(deps: WatchDeps, listed?: { at: bigint; ids: string[] }): Promise<void> {
  const at = listed?.at ?? nowNanos();
  const ids = listed?.ids ?? (await deps.docker.runningIds());
  await deps.publish(toNodeSnapshot(deps.node, at, ids));
}

/** Every `seconds`, a snapshot, so the handlers converge even after lost state or agent drift (P2). */
export async function resyncEvery(deps: WatchDeps, seconds: number): Promise<void> {
  try {
    for await (const _tick of setInterval(seconds * 1000, undefined, { signal: deps.signal })) {
      try {
        await emitSnapshot(deps);
      } catch (err) {
        if (deps.signal.aborted) return;
        deps.log.warn({ err: (err as Error).message }, "resync failed");
      }
    }
  } catch (err) {
    if (!deps.signal.aborted) throw err;
  }
}
