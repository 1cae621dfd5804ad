// P8 on a real three-server NATS cluster (BERTH_REPLICAS=3): the server leading the events stream,
// then the one leading the state bucket, is SIGKILLed while containers start and die on two nodes
// (private dockerds, emitters, agent doubles, two handlers). berth carries on through the
// survivors, every agent ends equal to Docker, and the killed server comes back and catches up.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { jetstreamManager } from "../common/nats/sdk.ts";
import { cleanupAll } from "./harness/cleanup.ts";
import type { NatsCluster } from "./harness/nats-cluster.ts";
import { waitFor } from "./harness/wait.ts";
import { startPipeline, type Pipeline } from "./pipeline/index.ts";

const STREAMS = ["CL_EVENTS", "CL_DLQ", "CL_REPAIRS", "KV_CL_containers"];

describe("nats cluster", () => {
  let c: Pipeline;
  let nats: NatsCluster;

  before(async () => {
    c = await startPipeline({
      prefix: "cl",
      nats: { cluster: 3 },
      env: { BERTH_REPLICAS: "3" },
      nodes: [
        { name: "k1", ip: "127.0.0.41", engine: "docker" },
        { name: "k2", ip: "127.0.0.42", engine: "docker" },
      ],
      handlers: 2,
      resyncSeconds: 5,
    });
    if (c.started) nats = c.natsCluster!;
  });
  after(cleanupAll);

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
        await c.docker(victim.node, "kill", victim.id);
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
    if (!c.ready(t)) return;
    const jsm = await jetstreamManager((await c.connect("cluster-test")).nc);
    for (const name of STREAMS) {
      const info = await jsm.streams.info(name);
      assert.equal(info.config.num_replicas, 3, name);
      await waitFor(async () => (await nats.current(name)).length === 3, { what: `3 current replicas of ${name}` });
    }
  });

  test("cluster - the events stream's leader SIGKILLed while containers start and die: 0 missing, 0 stale; it comes back and catches up", async (t) => {
    if (!c.ready(t)) return;
    const { leader, drift } = await killLeaderDuringChurn("CL_EVENTS");
    t.diagnostic(
      `killed n${leader}; then ${drift.map((d) => `${d.node}: ${d.running} running, ${d.missing} missing, ${d.stale} stale`).join("; ")}`,
    );
  });

  test("cluster - the state bucket's leader SIGKILLed while containers start and die: 0 missing, 0 stale; it comes back and catches up", async (t) => {
    if (!c.ready(t)) return;
    const { leader, drift } = await killLeaderDuringChurn("KV_CL_containers");
    t.diagnostic(
      `killed n${leader}; then ${drift.map((d) => `${d.node}: ${d.running} running, ${d.missing} missing, ${d.stale} stale`).join("; ")}`,
    );
  });
});
