// Issue 24 on a real three-server NATS cluster (BERTH_REPLICAS=3, one node with a private dockerd, its
// emitter, an agent double, two handlers): a server that crashes (SIGKILL: no hand-over of its
// leaderships) costs registrations seconds, not a minute. The server leading the handlers' consumer,
// then the one leading the state bucket, is killed, a container started and another killed right
// after; the one is registered and the other removed within 5 s — or of the survivors' election of new leaders, when that comes
// later: nats-server's Raft waits 4–9 s (a random election timeout, not configurable) before a
// follower stands, and no client can pull from a consumer, or write to a stream, without a leader.
import assert from "node:assert/strict";
import { after, before, describe, test, type TestContext } from "node:test";
import { streamNames } from "../schemas/index.ts";
import { cleanupAll } from "./harness/cleanup.ts";
import type { NatsCluster } from "./harness/nats-cluster.ts";
import { waitFor } from "./harness/wait.ts";
import { startPipeline, type Pipeline } from "./pipeline/index.ts";

const PREFIX = "cr";
const NODE = "r1";
/** What berth may add to the cluster's own election: the bound this issue sets. */
const RESUMED_WITHIN_MS = 5_000;

describe("nats crash", () => {
  let c: Pipeline;
  let nats: NatsCluster;
  const names = streamNames(PREFIX);
  const bucket = `KV_${names.state}`;

  before(async () => {
    c = await startPipeline({
      prefix: PREFIX,
      nats: { cluster: 3 },
      env: { BERTH_REPLICAS: "3" },
      nodes: [{ name: NODE, ip: "127.0.0.61", engine: "docker" }],
      handlers: 2,
    });
    if (c.started) nats = c.natsCluster!;
  });
  after(cleanupAll);

  const registered = (id: string) => Object.values(c.agent(NODE).services()).some((s) => s.Meta["berth_container"] === id);
  const leaders = async () => ({
    "events stream": await nats.leaderOf(names.events),
    "handlers' consumer": await nats.leaderOf(names.events, names.consumer),
    "state bucket": await nats.leaderOf(bucket),
  });

  /** Kills the server `pick` names, starts a container right after; returns the figures, the server back and caught up. */
  const crash = async (t: TestContext, pick: (l: Awaited<ReturnType<typeof leaders>>) => number) => {
    const warm = await c.run(NODE);
    await waitFor(() => registered(warm), { what: "a container registered before the crash", timeoutMs: 15_000 });
    const before = await leaders();
    const victim = pick(before);
    const led = Object.entries(before)
      .filter(([, i]) => i === victim)
      .map(([what]) => what);
    const killedAt = Date.now();
    await nats.kill(victim);
    const id = await c.run(NODE);
    const startedAt = Date.now();
    await c.docker(NODE, "kill", warm); // and one killed: its removal goes through the state bucket first
    const killedContainerAt = Date.now();
    let registeredAt = 0;
    let removedAt = 0;
    const watching = waitFor(
      () => (registeredAt ||= registered(id) ? Date.now() : 0) && (removedAt ||= registered(warm) ? 0 : Date.now()),
      { what: "the container registered, the killed one removed", timeoutMs: 60_000 },
    );
    watching.catch(() => undefined);
    const after = await leaders(); // the survivors' new leaders (leaderOf asks only running servers)
    const electedAt = Date.now();
    assert.ok(!Object.values(after).includes(victim));
    await waitFor(() => registeredAt > 0 && removedAt > 0, {
      what: `the container registered and the killed one removed within ${RESUMED_WITHIN_MS} ms of their start and kill or of the election (${led.join(", ")} lost)`,
      timeoutMs: Math.max(killedContainerAt, electedAt) + RESUMED_WITHIN_MS - Date.now(),
    });
    const s = (from: number, to: number) => `${((to - from) / 1000).toFixed(1)} s`;
    t.diagnostic(
      `killed n${victim} (leading ${led.join(", ")}): new leaders ${s(killedAt, electedAt)} after the kill; ` +
        `a container started right after registered ${s(startedAt, registeredAt)} after its start, one killed removed ${s(killedContainerAt, removedAt)} after its kill`,
    );
    await nats.start(victim);
    for (const name of [names.events, bucket])
      await waitFor(async () => (await nats.current(name)).includes(victim), {
        what: `n${victim} caught up on ${name}`,
        timeoutMs: 30_000,
      });
    await c.converged(undefined, 30_000);
  };

  test("crash - the server leading the handlers' consumer SIGKILLed: a container started right after registered, one killed removed, within 5 s (of their start and kill or of the election)", async (t) => {
    if (!c.ready(t)) return;
    await crash(t, (l) => l["handlers' consumer"]);
  });

  test("crash - the server leading the state bucket SIGKILLed: a container started right after registered, one killed removed, within 5 s (of their start and kill or of the election)", async (t) => {
    if (!c.ready(t)) return;
    await crash(t, (l) => l["state bucket"]);
  });
});
