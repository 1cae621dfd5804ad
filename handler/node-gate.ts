// Per-node isolation (P7): which nodes' agents this handler should not call right now. A node whose
// agent failed a moment ago, or whose calls pile up unanswered, gets its changes recorded in the
// state bucket and left to a repair of the node (handler/repair.ts) instead of holding a worker's
// slots: no node's trouble delays another's registrations. In-memory and small (one entry per node
// in trouble); losing it costs one more failed call, never a change.

/** After a failure, the node's agent is not called again for this long (then one call tries it). */
export const RETRY_AFTER_MS = 1_000;
/** Calls to one agent in flight at once before its slowness counts... */
export const SLOW_CALLS = 8;
/** ...when the oldest of them has waited this long (an agent answers in milliseconds). */
export const SLOW_AFTER_MS = 500;

export type NodeGate = {
  /** Why the node's agent should not be called now (it failed a moment ago); undefined when it may be. */
  blocked(node: string): string | undefined;
  /** Why the node's agent is too slow to take more calls now; undefined when it is not. */
  busy(node: string): string | undefined;
  /** Milliseconds until the node's agent may be called again (0: now). */
  retryIn(node: string): number;
  /** Marks a call to the node's agent as started; the returned function marks it ended. */
  enter(node: string): () => void;
  /** The node's agent answered: its trouble, if any, is over. */
  succeeded(node: string): void;
  /** The node's agent could not be reached or failed in a way waiting can fix. */
  failed(node: string, reason: string): void;
  /** Since when the node has been in trouble, and why, as this handler saw it. */
  trouble(node: string): { since: number; reason: string } | undefined;
};

export function nodeGate(now: () => number = Date.now): NodeGate {
  const failures = new Map<string, { since: number; until: number; reason: string }>();
  /** Each call in flight, by node: an object per call, so two started in the same millisecond are two. */
  const calls = new Map<string, Set<{ at: number }>>();
  return {
    blocked(node) {
      const failure = failures.get(node);
      return failure && now() < failure.until ? failure.reason : undefined;
    },
    retryIn(node) {
      const failure = failures.get(node);
      return failure ? Math.max(0, failure.until - now()) : 0;
    },
    busy(node) {
      const started = calls.get(node);
      if (started === undefined || started.size < SLOW_CALLS) return undefined;
      const oldest = Math.min(...[...started].map((c) => c.at));
      const waited = now() - oldest;
      return waited >= SLOW_AFTER_MS ? `agent slow: ${started.size} calls in flight, the oldest for ${waited} ms` : undefined;
    },
    enter(node) {
      let started = calls.get(node);
      if (!started) calls.set(node, (started = new Set()));
      const call = { at: now() };
      started.add(call);
      const set = started;
      return () => {
        set.delete(call);
        if (set.size === 0 && calls.get(node) === set) calls.delete(node);
      };
    },
    succeeded(node) {
      failures.delete(node);
    },
    failed(node, reason) {
      const t = now();
      failures.set(node, { since: failures.get(node)?.since ?? t, until: t + RETRY_AFTER_MS, reason });
    },
    trouble(node) {
      const failure = failures.get(node);
      return failure && { since: failure.since, reason: failure.reason };
    },
  };
}
