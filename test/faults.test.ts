// P1–P6 under faults, with real parts (test/cluster.ts): two nodes f1, f2, each a private dockerd
// with its emitter and agent double; two handlers; one nats-server. After each fault every agent
// must equal Docker's truth: the berth-owned services name exactly the running containers.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startCluster, type Cluster } from "./cluster.ts";
import { cleanupAll } from "./harness/cleanup.ts";
import { docker } from "./harness/docker-cli.ts";
import { canStartDockerd } from "./harness/dockerd.ts";
import { canStartNatsServer } from "./harness/nats.ts";
import { requireOrSkip } from "./harness/prereq.ts";
import { startSocketProxy, type SocketProxy } from "./socket-proxy.ts";

describe("faults", () => {
  let c: Cluster;
  let proxy: SocketProxy | undefined;
  let ready = false;

  before(async () => {
    if (!canStartDockerd() || !canStartNatsServer()) return;
    c = await startCluster({
      prefix: "faults",
      nodes: [
        { name: "f1", ip: "127.0.0.21" },
        { name: "f2", ip: "127.0.0.22" },
      ],
      handlers: 2,
      resyncSeconds: 2,
      // f1's emitter reaches Docker through a proxy the stream-cut test can cut.
      dockerHostFor: async (engine) => (engine.name === "f1" ? (proxy = await startSocketProxy(engine.socketPath)).host : engine.host),
    });
    ready = true;
  });
  after(cleanupAll);
  const prereq = (t: import("node:test").TestContext) => requireOrSkip(t, "root, dockerd and nats-server", ready);

  test("faults - the emitter restarted while containers start and die: converges", async (t) => {
    if (!prereq(t)) return;
    const doomed = await c.run("f1");
    await c.run("f1");
    await c.converged(["f1"]);
    await c.emitters.get("f1")!.stop("SIGKILL");
    await docker(c.engine("f1"), "kill", doomed);
    await c.run("f1");
    await c.startEmitter("f1");
    const [d] = await c.converged(["f1"]);
    assert.equal(d?.running, 2);
  });

  test("faults - a handler killed with SIGKILL mid-batch: redelivered and applied once in effect", async (t) => {
    if (!prereq(t)) return;
    const victim = c.handlers[0]!;
    const seen = victim.logs.length;
    const starting = Promise.all(Array.from({ length: 12 }, () => c.run("f2")));
    await victim.waitForLog((l) => victim.logs.indexOf(l) >= seen && l.msg === "applied", "the victim applying the batch");
    await c.killHandler(victim);
    await starting;
    await c.converged(["f2"], 60_000);
    const ids = Object.values(c.agents.get("f2")!.services()).map((s) => s.ID);
    assert.equal(new Set(ids).size, ids.length);
    await c.startHandler();
  });

  test("faults - the NATS server restarted: both sides reconnect and nothing is lost", async (t) => {
    if (!prereq(t)) return;
    const [id] = await Promise.all([c.run("f1"), c.nats!.restart()]);
    await c.converged();
    await docker(c.engine("f1"), "kill", id);
    await c.converged();
  });

  test("faults - one agent down: its work waits and applies when it returns, other nodes keep flowing", async (t) => {
    if (!prereq(t)) return;
    await c.agents.get("f2")!.close();
    const waiting = await c.run("f2");
    await c.run("f1");
    await c.converged(["f1"]);
    const deferred = c.handlers.map((h) =>
      h.waitForLog((l) => l.msg === "deferred" && l["container"] === waiting, "the event left to f2's repair", 20_000),
    );
    await Promise.any(deferred);
    await c.startAgent("f2"); // a new, empty agent: reconciliation also restores what it lost
    await c.converged(["f2"], 60_000);
  });

  test("faults - the Docker event stream cut: resumed with since, no event lost", async (t) => {
    if (!prereq(t)) return;
    const emitter = c.emitters.get("f1")!;
    const victim = await c.run("f1");
    await c.converged(["f1"]);
    const seen = emitter.logs.length;
    proxy!.cut({ refusing: true });
    await docker(c.engine("f1"), "kill", victim); // its die happens while the emitter cannot see Docker
    const late = await c.run("f1");
    proxy!.accept();
    const published = (id: string, type: string) => (l: { msg: string; [k: string]: unknown }) =>
      emitter.logs.indexOf(l as never) >= seen && l.msg === "published" && l["container"] === id && l["type"] === type;
    await emitter.waitForLog(published(victim, "io.berth.container.stopped"), "the die replayed with since", 20_000);
    await emitter.waitForLog(published(late, "io.berth.container.started"), "the start replayed with since", 20_000);
    await c.converged(["f1"]);
  });

  test("faults - 100 containers started at once, then killed at once: 100 registered, then 100 removed", async (t) => {
    if (!prereq(t)) return;
    const before = (await c.drift("f1")).running;
    const ids = await Promise.all(Array.from({ length: 100 }, () => c.run("f1")));
    const [up] = await c.converged(["f1"], 60_000);
    assert.equal(up?.running, before + 100);
    await docker(c.engine("f1"), "kill", ...ids);
    const [down] = await c.converged(["f1"], 60_000);
    assert.equal(down?.running, before);
    t.diagnostic(`100 registered, then 100 removed (${before} others kept)`);
  });
});
