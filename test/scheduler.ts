// Controlled scheduling of concurrent workers: every bucket and agent call waits at a gate, and
// the test decides which waiting worker goes next. Exhaustive (depth-first over every choice) or
// seeded random.
import { AsyncLocalStorage } from "node:async_hooks";
import type { StateBucket } from "../common/nats/index.ts";
import type { AgentClient } from "../consul/client.ts";

type Waiting = { worker: string; op: string; go: () => void };
export type Worker = { name: string; body: () => Promise<void> };

const current = new AsyncLocalStorage<string>();

/** A gate: the call waits there until the scheduler releases it, then reports its end with the function it gets. */
export type Gate = (op: string) => Promise<() => void>;

/** Lets the microtasks of released work run until every worker waits at a gate or is done. */
async function settle(isQuiet: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !isQuiet(); i++) await new Promise((r) => setImmediate(r));
  if (!isQuiet()) throw new Error("workers did not reach a gate");
}

/**
 * Runs the workers `build` makes (their calls wait at `gate`) to completion, choosing at each step which waiting operation proceeds.
 * `choose(n)` returns an index below n. Returns the trace of operations in the order run.
 */
export async function runScheduled(build: (gate: Gate) => Worker[], choose: (n: number) => number) {
  const waiting: Waiting[] = [];
  let done = 0;
  const failures: unknown[] = [];
  /** Calls begun and not ended, per worker: a worker may run several at once (Promise.all). */
  const inFlight = new Map<string, number>();
  const count = (worker: string, by: number) => inFlight.set(worker, (inFlight.get(worker) ?? 0) + by);
  const gate: Gate = async (op) => {
    const worker = current.getStore() ?? "?";
    count(worker, 1);
    await new Promise<void>((go) => waiting.push({ worker, op, go }));
    return () => count(worker, -1);
  };
  const workers = build(gate);
  for (const w of workers) {
    void current
      .run(w.name, () => w.body())
      .then(
        () => done++,
        (err: unknown) => (done++, failures.push(err)),
      )
      .finally(() => finished.add(w.name));
  }
  const finished = new Set<string>();
  // Every worker is done, or each of its calls in flight waits at a gate.
  const quiet = () =>
    done === workers.length ||
    workers.every(
      (w) =>
        finished.has(w.name) ||
        ((inFlight.get(w.name) ?? 0) > 0 && waiting.filter((x) => x.worker === w.name).length === inFlight.get(w.name)),
    );
  const trace: string[] = [];
  await settle(quiet);
  while (waiting.length > 0) {
    const [next] = waiting.splice(choose(waiting.length), 1);
    trace.push(`${next!.worker}:${next!.op}`);
    next!.go();
    await new Promise((r) => setImmediate(r));
    await settle(quiet);
  }
  if (failures.length > 0) throw failures[0];
  return trace;
}

/** Wraps a bucket and an agent so that each call first waits at the scheduler's gate. */
export function gated(bucket: StateBucket, agent: AgentClient, gate: Gate) {
  const g =
    <A extends unknown[], R>(op: string, f: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      const end = await gate(op);
      try {
        return await f(...a);
      } finally {
        end();
      }
    };
  const gatedBucket: StateBucket = {
    get: g("kv.get", bucket.get.bind(bucket)),
    compareAndSet: g("kv.cas", bucket.compareAndSet.bind(bucket)),
    createFresh: g("kv.create", bucket.createFresh.bind(bucket)),
    deleteAt: g("kv.delete", bucket.deleteAt.bind(bucket)),
    entriesMatching: g("kv.entries", bucket.entriesMatching.bind(bucket)),
    ttlSeconds: bucket.ttlSeconds,
  };
  const gatedAgent: AgentClient = {
    ...agent,
    register: g("agent.register", agent.register.bind(agent)),
    deregister: g("agent.deregister", agent.deregister.bind(agent)),
    services: g("agent.services", agent.services.bind(agent)),
  };
  return { bucket: gatedBucket, agent: gatedAgent };
}

/** Every schedule, depth-first: replays a prefix of choices, then explores the next branch. */
export async function forEverySchedule(run: (choose: (n: number) => number) => Promise<void>, limit = 100_000): Promise<number> {
  let prefix: number[] = [];
  for (let schedules = 1; schedules <= limit; schedules++) {
    const taken: { choice: number; of: number }[] = [];
    await run((n) => {
      const choice = taken.length < prefix.length ? prefix[taken.length]! : 0;
      taken.push({ choice, of: n });
      return choice;
    });
    while (taken.length > 0 && taken[taken.length - 1]!.choice + 1 >= taken[taken.length - 1]!.of) taken.pop();
    if (taken.length === 0) return schedules;
    prefix = [...taken.slice(0, -1).map((t) => t.choice), taken[taken.length - 1]!.choice + 1];
  }
  throw new Error(`more than ${limit} schedules`);
}

/** A small seeded generator (mulberry32), so a failing random schedule can be replayed. */
export function seeded(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}
