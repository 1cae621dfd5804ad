// P8 on a real three-server NATS cluster (BERTH_REPLICAS=3): the server leading the events stream,
// then the one leading the state bucket, is SIGKILLed while containers start and die on two nodes
// (private dockerds, emitters, agent doubles, two handlers). berth carries on through the
// survivors, every agent ends equal to Docker, and the killed server comes back and catches up.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { connectBus, type Bus } from "../common/nats/index.ts";
import { jetstreamManager } from "../common/nats/sdk.ts";
import { startCluster, type Cluster } from "./cluster.ts";
import { cleanupAll, registerCleanup } from "./harness/cleanup.ts";
import { docker } from "./harness/docker-cli.ts";
import { canStartDockerd } from "./harness/dockerd.ts";
import { canStartNatsServer } from "./harness/nats.ts";
import { startNatsCluster, type NatsCluster } from "./harness/nats-cluster.ts";
import { requireOrSkip } from "./harness/prereq.ts";
import { waitFor } from "./harness/wait.ts";

const STREAMS = ["CL_EVENTS", "CL_DLQ", "CL_REPAIRS", "KV_CL_containers"];

describe("nats cluster", () => {
  let nats: NatsCluster;
  let c: Cluster;
  let bus: Bus;
  let ready = false;

  before(async () => {
    if (!canStartDockerd() || !canStartNatsServer()) return;
    nats = await startNatsCluster(3);
    c = await startCluster({
      prefix: "cl",
      natsUrl: nats.url,
      env: { BERTH_REPLICAS: "3" },
      nodes: [
        { name: "k1", ip: "127.0.0.41" },
        { name: "k2", ip: "127.0.0.42" },
      ],
      handlers: 2,
      resyncSeconds: 5,
    });
    bus = await connectBus({ NATS_URL: nats.url, BERTH_PREFIX: "cl" }, "cluster-test");
    registerCleanup("cluster test bus", () => bus.drain());
    ready = true;
  });
  after(cleanupAll);
  const prereq = (t: import("node:test").TestContext) => requireOrSkip(t, "root, dockerd and nats-server", ready);

  /** Every berth process is still the one started (none exited). */
  const allAlive = async () => {
    const processes = [...c.emitters.values(), ...c.handlers];
    const exited = await Promise.all(processes.map((p) => Promise.race([p.exited.then(() => true), Promise.resolve(false)])));
    return exited.every((e) => !e);
  };

  /** `count` operations alternating between the nodes: start a container, and kill every third one started. */
  const churn = async (count: number, progress: { done: number }) => {
    const live: { node: string; id: string }[] = [];
    for (let i = 0; i < count; i++) {
      const node = i % 2 === 0 ? "k1" : "k2";
      live.push({ node, id: await c.run(node) });
      if (i % 3 === 2) {
        const victim = live.shift()!;
        await docker(c.engine(victim.node), "kill", victim.id);
      }
      progress.done++;
    }
  };

  const killLeaderDuringChurn = async (stream: string) => {
    const leader = await nats.leaderOf(stream);
    const progress = { done: 0 };
    const churning = churn(12, progress);
    await waitFor(() => progress.done >= 3, { what: "the churn under way", timeoutMs: 30_000 });
    await nats.kill(leader);
    await churning;
    const drift = await c.converged(undefined, 60_000);
    assert.ok(await allAlive(), "emitters and handlers carried on through the surviving servers");
    assert.notEqual(await nats.leaderOf(stream), leader, "a survivor leads the stream");
    await nats.start(leader);
    await waitFor(async () => (await nats.current(stream)).includes(leader), {
      what: `server ${leader} caught up on ${stream}`,
      timeoutMs: 30_000,
    });
    await c.converged(undefined, 30_000);
    return { leader, drift };
  };

  test("cluster - with BERTH_REPLICAS=3 the streams and the state bucket are replicated on all three servers", async (t) => {
    if (!prereq(t)) return;
    const jsm = await jetstreamManager(bus.nc);
    for (const name of STREAMS) {
      const info = await jsm.streams.info(name);
      assert.equal(info.config.num_replicas, 3, name);
      await waitFor(async () => (await nats.current(name)).length === 3, { what: `3 current replicas of ${name}` });
    }
  });

  test("cluster - the events stream's leader SIGKILLed while containers start and die: 0 missing, 0 stale; it comes back and catches up", async (t) => {
    if (!prereq(t)) return;
    const { leader, drift } = await killLeaderDuringChurn("CL_EVENTS");
    t.diagnostic(
      `killed n${leader}; then ${drift.map((d) => `${d.node}: ${d.running} running, ${d.missing} missing, ${d.stale} stale`).join("; ")}`,
    );
  });

  test("cluster - the state bucket's leader SIGKILLed while containers start and die: 0 missing, 0 stale; it comes back and catches up", async (t) => {
    if (!prereq(t)) return;
    const { leader, drift } = await killLeaderDuringChurn("KV_CL_containers");
    t.diagnostic(
      `killed n${leader}; then ${drift.map((d) => `${d.node}: ${d.running} running, ${d.missing} missing, ${d.stale} stale`).join("; ")}`,
    );
  });
});
