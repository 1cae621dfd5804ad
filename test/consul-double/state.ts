// Agent local state (services + checks) and its catalog copy: raft-like indexes per service
// name, and waiters for blocking queries. Anti-entropy is synchronous, as when a leader is
// reachable: every write lands in the catalog before the HTTP handler returns, except
// output-only check changes, which wait for the next status change or re-registration.
import { sidecarToRemoveWith } from "./sidecar-local.ts";
import type { Identity, StoredCheck, StoredService } from "./types.ts";

export type Store = ReturnType<typeof createStore>;
type Hooks = { checkAdded(c: StoredCheck): void; checkRemoved(id: string): void };

const CRITICAL = "critical";
export const BOOT_INDEX = 8;

function serviceFingerprint(s: StoredService): string {
  return JSON.stringify([
    s.kind,
    s.name,
    s.tags,
    s.meta,
    s.port,
    s.address,
    s.socketPath,
    s.taggedAddresses,
    s.weights,
    s.enableTagOverride,
    s.proxy,
    s.connect,
  ]);
}

export function createStore(identity: Identity) {
  const services = new Map<string, StoredService>();
  const checks = new Map<string, StoredCheck>();
  const nameIndexes = new Map<string, number>();
  const waiters = new Set<{ check(): void; done(): void }>();
  let index = BOOT_INDEX;
  let servicesIndex = BOOT_INDEX;
  let hooks: Hooks = { checkAdded() {}, checkRemoved() {} };
  /** Pending output-only syncs (check_update_interval 5m, randomised to 2.5–7.5 min). */
  const deferred = new Map<string, NodeJS.Timeout>();

  const checkFingerprint = (c: StoredCheck): string => {
    const svc = services.get(c.serviceId);
    return JSON.stringify([c.name, c.synced, c.notes, c.serviceId, c.type, c.interval, c.timeout, svc?.name, svc?.tags]);
  };

  /** Advances the index for the given service names (all names for node-level changes). */
  const bump = (names: Iterable<string>, servicesChanged = false): number => {
    index++;
    for (const name of names) nameIndexes.set(name, index);
    if (servicesChanged) servicesIndex = index;
    for (const w of [...waiters]) w.check();
    return index;
  };

  const allNames = () => new Set(["consul", ...[...services.values()].map((s) => s.name)]);

  const checksOf = (serviceId: string) => [...checks.values()].filter((c) => c.serviceId === serviceId);

  const dropCheck = (id: string) => {
    clearTimeout(deferred.get(id));
    deferred.delete(id);
    if (checks.delete(id)) hooks.checkRemoved(id);
  };

  const syncCheck = (c: StoredCheck) => {
    clearTimeout(deferred.get(c.id));
    deferred.delete(c.id);
    c.synced = { status: c.status, output: c.output };
    const svc = services.get(c.serviceId);
    c.modifyIndex = bump(svc ? [svc.name] : allNames());
  };

  return {
    identity,
    services,
    checks,
    setHooks(h: Hooks) {
      hooks = h;
    },
    index: () => index,
    servicesIndex: () => servicesIndex,
    /** X-Consul-Index for catalog/health queries on one service name. */
    nameIndex(name: string): number {
      const exists = name === "consul" || [...services.values()].some((s) => s.name === name);
      return exists ? (nameIndexes.get(name) ?? BOOT_INDEX) : index;
    },
    checksOf,

    /**
     * AddService: replaces the definition, keeps status/output of checks that already exist.
     * `started`: which checks (by index) get their runner (re)started; all unless told.
     */
    registerService(svc: StoredService, fresh: StoredCheck[], replaceExisting: boolean, started = (_index: number) => true): void {
      const old = services.get(svc.id);
      const before = new Map(checksOf(svc.id).map((c) => [c.id, checkFingerprint(c)]));
      const freshIds = new Set(fresh.map((c) => c.id));
      for (const c of fresh) {
        const existing = checks.get(c.id);
        if (existing) {
          c.status = existing.status;
          c.output = existing.output;
          c.criticalSince = existing.criticalSince;
          c.createIndex = existing.createIndex;
          c.modifyIndex = existing.modifyIndex;
        }
        c.synced = { status: c.status, output: c.output };
      }
      const removed = replaceExisting ? checksOf(svc.id).filter((c) => !freshIds.has(c.id)) : [];
      svc.createIndex = old?.createIndex ?? 0;
      svc.modifyIndex = old?.modifyIndex ?? 0;
      services.set(svc.id, svc);
      for (const c of removed) dropCheck(c.id);
      // A check not started keeps the runner it had (its old definition keeps running).
      fresh.forEach((c, i) => {
        if (started(i)) dropCheck(c.id);
        checks.set(c.id, c);
      });
      const serviceChanged = !old || serviceFingerprint(old) !== serviceFingerprint(svc);
      const changedChecks = fresh.filter((c) => before.get(c.id) !== checkFingerprint(c) || c.createIndex === 0);
      if (serviceChanged || changedChecks.length > 0 || removed.length > 0) {
        const names = old && old.name !== svc.name ? [old.name, svc.name] : [svc.name];
        const idx = bump(names, serviceChanged);
        if (serviceChanged) {
          svc.modifyIndex = idx;
          if (!old) svc.createIndex = idx;
        }
        for (const c of changedChecks) {
          c.modifyIndex = idx;
          if (c.createIndex === 0) c.createIndex = idx;
        }
      }
      fresh.forEach((c, i) => started(i) && hooks.checkAdded(c));
    },

    /** RemoveService: the service, its checks, and the sidecar the agent registered for it. */
    removeService(id: string): StoredService | undefined {
      const svc = services.get(id);
      if (!svc) return undefined;
      const sidecar = sidecarToRemoveWith(services, id);
      services.delete(id);
      for (const c of checksOf(id)) dropCheck(c.id);
      bump([svc.name], true);
      if (sidecar !== undefined) this.removeService(sidecar);
      return svc;
    },

    /** AddCheck (check/register, maintenance): a standalone check, status as given. */
    addCheck(c: StoredCheck): void {
      const existing = checks.get(c.id);
      dropCheck(c.id);
      c.synced = { status: c.status, output: c.output };
      c.createIndex = existing?.createIndex ?? 0;
      const svc = services.get(c.serviceId);
      c.modifyIndex = bump(svc ? [svc.name] : allNames());
      if (c.createIndex === 0) c.createIndex = c.modifyIndex;
      checks.set(c.id, c);
      hooks.checkAdded(c);
    },

    removeCheck(id: string): boolean {
      const c = checks.get(id);
      if (!c) return false;
      dropCheck(id);
      const svc = services.get(c.serviceId);
      bump(svc ? [svc.name] : allNames());
      return true;
    },

    /** UpdateCheck: status changes sync at once, output-only changes are deferred. */
    updateCheck(id: string, status: string, output: string): void {
      const c = checks.get(id);
      if (!c) return;
      if (status === CRITICAL) c.criticalSince ??= Date.now();
      else c.criticalSince = undefined;
      c.status = status;
      c.output = output;
      if (c.synced.status !== status) {
        syncCheck(c);
        return;
      }
      if (c.synced.output === output || deferred.has(id)) return;
      const timer = setTimeout(() => checks.get(id) === c && syncCheck(c), 150_000 + Math.random() * 300_000);
      timer.unref();
      deferred.set(id, timer);
    },

    /** Resolves once `ready()` holds (re-checked after every write), or after `waitMs`. */
    waitFor(ready: () => boolean, waitMs: number): Promise<void> {
      return new Promise((resolve) => {
        const waiter = { check: () => ready() && waiter.done(), done: () => {} };
        const timer = setTimeout(() => waiter.done(), waitMs);
        waiter.done = () => {
          waiters.delete(waiter);
          clearTimeout(timer);
          resolve();
        };
        waiters.add(waiter);
        waiter.check();
      });
    },

    /** Wakes every blocked query and drops pending timers (used by close()). */
    shutdown(): void {
      for (const w of [...waiters]) w.done();
      for (const timer of deferred.values()) clearTimeout(timer);
      deferred.clear();
    },
  };
}
