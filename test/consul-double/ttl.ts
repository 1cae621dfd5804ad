// Check runtime: TTL timers (checks.CheckTTL), HTTP/TCP probes, and the reaper for
// DeregisterCriticalServiceAfter. Every timer is unref'd and cleared by stopAll().
import { startProbe, type ProbeOrigin } from "./probes.ts";
import type { Store } from "./state.ts";
import type { StoredCheck } from "./types.ts";

const REAP_INTERVAL_MS = 30_000;
const MIN_DEREGISTER_NS = 60e9;
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export type CheckRunner = ReturnType<typeof createCheckRunner>;

/** Truncates output over OutputMaxSize the way CheckTTL.SetStatus does. */
export function truncateOutput(output: string, max: number): string {
  const bytes = Buffer.from(output, "utf8");
  if (bytes.length <= max) return output;
  return `${bytes.subarray(0, max).toString("utf8")} ... (captured ${max} of ${bytes.length} bytes)`;
}

export function createCheckRunner(store: Store, origin: ProbeOrigin) {
  const ttlTimers = new Map<string, NodeJS.Timeout>();
  const lastOutput = new Map<string, string>();
  const probes = new Map<string, () => void>();

  // Go's timers take any Duration; setTimeout fires at once past 2^31-1 ms (~24.8 days), so a
  // longer TTL (berth's health checks use 87600h) waits in steps.
  const armTtl = (c: StoredCheck, remainingMs = c.ttlNs / 1e6) => {
    clearTimeout(ttlTimers.get(c.id));
    const step = Math.min(remainingMs, MAX_TIMEOUT_MS);
    const timer = setTimeout(() => {
      ttlTimers.delete(c.id);
      if (remainingMs > step) {
        armTtl(c, remainingMs - step);
        return;
      }
      const last = lastOutput.get(c.id) ?? "";
      const output = last === "" ? "TTL expired" : `TTL expired (last output before timeout follows): ${last}`;
      store.updateCheck(c.id, "critical", output);
    }, step);
    timer.unref();
    ttlTimers.set(c.id, timer);
  };

  const stop = (id: string) => {
    clearTimeout(ttlTimers.get(id));
    ttlTimers.delete(id);
    lastOutput.delete(id);
    probes.get(id)?.();
    probes.delete(id);
  };

  const reaper = setInterval(() => {
    const now = Date.now();
    for (const c of [...store.checks.values()]) {
      if (c.deregisterAfterNs <= 0 || c.criticalSince === undefined || !c.serviceId) continue;
      const timeoutMs = Math.max(c.deregisterAfterNs, MIN_DEREGISTER_NS) / 1e6;
      if (now - c.criticalSince > timeoutMs) store.removeService(c.serviceId);
    }
  }, REAP_INTERVAL_MS);
  reaper.unref();

  const runner = {
    /** A check entered local state: (re)start its TTL timer with the full TTL, or its probe. */
    checkAdded(c: StoredCheck) {
      stop(c.id);
      if (c.type === "ttl") armTtl(c);
      else if (c.type === "http" || c.type === "tcp") {
        probes.set(
          c.id,
          startProbe(c, origin, (status, output) => store.updateCheck(c.id, status, truncateOutput(output, c.outputMaxSize))),
        );
      }
    },
    checkRemoved: stop,
    isTtl: (id: string) => store.checks.get(id)?.type === "ttl",
    /** pass/warn/fail/update: set status and output, remember the output, reset the timer. */
    ttlUpdate(id: string, status: string, output: string) {
      const c = store.checks.get(id);
      if (!c) return;
      const truncated = truncateOutput(output, c.outputMaxSize);
      lastOutput.set(id, truncated);
      store.updateCheck(id, status, truncated);
      armTtl(c);
    },
    stopAll() {
      clearInterval(reaper);
      for (const id of [...ttlTimers.keys(), ...probes.keys()]) stop(id);
    },
  };
  return runner;
}
