// A rolling upgrade and its rollback (docs/upgrading.md), with real parts: berth as it was before the
// tolerant reader (main at BEFORE, checked out apart) runs an emitter per node and two handlers on
// a real nats-server and private dockerds; while containers start and stop, the handlers are
// replaced one by one by today's tree, then the emitters; then rolled back (emitters first, then
// handlers). At each end: every agent equals the mapping of its node's running containers (0
// missing, 0 stale) and there is no dead letter.
import assert from "node:assert/strict";
import { after, before, describe, test, type TestContext } from "node:test";
import type { BerthProcess } from "./berth-process.ts";
import { checkOut, hasCommit, today, type BerthTree } from "./berth-tree.ts";
import { cleanupAll } from "./harness/cleanup.ts";
import { docker } from "./harness/docker-cli.ts";
import { startPipeline, type Pipeline } from "./pipeline/index.ts";

/** main before issue 21: its reader refuses any attribute or field it does not know. */
const BEFORE = "473f281";
const NODES = [
  { name: "u1", ip: "127.0.0.71", engine: "docker", emitter: { deferred: true } },
  { name: "u2", ip: "127.0.0.72", engine: "docker", emitter: { deferred: true } },
] as const;
const LIVE_PER_NODE = 4;

/** One process of the cluster, and the tree it runs from. */
type Slot = {
  kind: "emitter" | "handler";
  env: () => Record<string, string>;
  tree?: BerthTree;
  process?: BerthProcess | undefined;
  applied: number;
};

describe("upgrade", () => {
  let p: Pipeline;
  let old: BerthTree;

  before(async () => {
    p = await startPipeline({
      prefix: "upgrade",
      nodes: [...NODES],
      handlers: 0,
      bus: true,
      // The old handlers create the consumer first, with their default ack wait (30 s), and one of
      // them stopped leaves what it had pulled for that long: both trees are given today's default.
      env: { BERTH_ACK_WAIT_SECONDS: "4" },
      requires: { [`git history holding ${BEFORE}`]: hasCommit(BEFORE) },
    });
    if (p.started) old = checkOut(BEFORE);
  });
  after(cleanupAll);

  const emitterEnv = (node: (typeof NODES)[number]) => () => ({
    ...p.env(),
    DOCKER_HOST: p.engine(node.name).host,
    BERTH_NODE: node.name,
    BERTH_HOST_IP: node.ip,
  });
  const ready = (slot: Slot) => (slot.kind === "handler" ? "started" : "watching docker");

  /** Puts `tree` in the slot: a handler starts before the one it replaces stops; an emitter stops first (one per node). */
  async function replace(slot: Slot, tree: BerthTree) {
    const previous = slot.process;
    if (slot.kind === "emitter") await stop(slot);
    const next = await tree.start(slot.kind, slot.env());
    await next.waitForLog((l) => l.msg === ready(slot), `${tree.name} ${slot.kind} ready`);
    if (slot.kind === "handler" && previous) await stop(slot);
    Object.assign(slot, { tree, process: next });
  }
  async function stop(slot: Slot) {
    if (!slot.process) return;

    assert.equal((await slot.process.stop()).code, 0, `${slot.tree?.name} ${slot.kind} stopped cleanly`);
    slot.applied += slot.process.logs.filter((l) => l.msg === "applied").length;
    slot.process = undefined;
  }

  /** Starts and removes containers on every node until the returned stop is called; resolves with how many operations it made. */
  function churn() {
    let stopping = false;
    const onNode = async (node: string) => {
      const live: string[] = [];
      let ops = 0;
      while (!stopping) {
        if (live.length >= LIVE_PER_NODE) await docker(p.engine(node), ...(ops % 2 === 0 ? ["kill"] : ["rm", "-f"]), live.shift()!);
        else live.push(await p.run(node));
        ops++;
      }
      return ops;
    };
    const running = Promise.all(NODES.map((n) => onNode(n.name)));
    return async () => {
      stopping = true;
      return (await running).reduce((a, b) => a + b, 0);
    };
  }

  /** Every running container killed and a new one started on each node: the handlers running now read the states the others wrote. */
  async function turnOver() {
    await Promise.all(
      NODES.map(async ({ name }) => {
        const running = [...(await p.running(name))];
        if (running.length > 0) await docker(p.engine(name), "kill", ...running);
        await p.run(name);
      }),
    );
  }

  async function assertConverged(when: string, t: TestContext) {
    const since = performance.now();
    await p.converged(undefined, 30_000);
    t.diagnostic(`${when}: converged in ${Math.round(performance.now() - since)} ms`);
    assert.deepEqual(
      (await p.deadLetters()).map((l) => `${l.reason}: ${l.problems.join("; ")}`),
      [],
      `dead letters ${when}`,
    );
  }

  test(`upgrade - ${BEFORE} → today one process at a time, handlers first, and back, while containers come and go: 0 missing, 0 stale, 0 dead letters`, async (t) => {
    if (!p.ready(t)) return;
    const handlers: Slot[] = [0, 1].map(() => ({ kind: "handler", env: () => p.handlerEnv(), applied: 0 }));
    const emitters: Slot[] = NODES.map((n) => ({ kind: "emitter", env: emitterEnv(n), applied: 0 }));
    for (const slot of [...handlers, ...emitters]) await replace(slot, old);
    await p.run("u1");
    await assertConverged(`with ${BEFORE} only`, t);

    let since = performance.now();
    let stopChurn = churn();
    for (const slot of [...handlers, ...emitters]) await replace(slot, today);
    t.diagnostic(`upgrade: ${await stopChurn()} container operations in ${Math.round(performance.now() - since)} ms`);
    await assertConverged("after the upgrade", t);
    await turnOver();
    await assertConverged(`after today's handlers stopped the containers ${BEFORE}'s registered`, t);

    since = performance.now();
    stopChurn = churn();
    for (const slot of [...emitters, ...handlers]) await replace(slot, old);
    t.diagnostic(`rollback: ${await stopChurn()} container operations in ${Math.round(performance.now() - since)} ms`);
    await assertConverged("after the rollback", t);
    await turnOver();
    await assertConverged(`after ${BEFORE}'s handlers stopped the containers today's registered`, t);

    // Both trees did the work: each handler slot applied events under each tree.
    for (const slot of handlers) await stop(slot);
    for (const slot of emitters) await stop(slot);
    assert.ok(handlers.every((h) => h.applied > 0));
  });
});
