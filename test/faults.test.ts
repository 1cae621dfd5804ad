// P1–P6 under faults, with real parts (test/pipeline): two nodes f1, f2, each a private dockerd
// with its emitter and agent double; two handlers; one nats-server. After each fault every agent
// must equal the mapping of the running containers: every service, field by field, and nothing else.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { cleanupAll } from "./harness/cleanup.ts";
import { startPipeline, type Pipeline } from "./pipeline/index.ts";
import { startSocketProxy, type SocketProxy } from "./socket-proxy.ts";

describe("faults", () => {
  let p: Pipeline;
  let proxy: SocketProxy | undefined;

  before(async () => {
    p = await startPipeline({
      prefix: "faults",
      nodes: [
        // f1's emitter reaches Docker through a proxy the stream-cut test can cut.
        {
          name: "f1",
          ip: "127.0.0.21",
          engine: "docker",
          emitter: { dockerHost: async (engine) => (proxy = await startSocketProxy(engine.socketPath)).host },
        },
        { name: "f2", ip: "127.0.0.22", engine: "docker" },
      ],
      handlers: 2,
      resyncSeconds: 2,
    });
  });
  after(cleanupAll);

  /** The services f-node's agent holds for the container, as the mapping gives them (the oracle compared every field). */
  const servicesOf = (node: string, id: string) => Object.values(p.agent(node).services()).filter((s) => s.Meta["berth_container"] === id);

  test("faults - the emitter restarted while containers start and die: converges", async (t) => {
    if (!p.ready(t)) return;
    const doomed = await p.run("f1");
    await p.run("f1");
    await p.converged(["f1"]);
    await p.emitter("f1").stop("SIGKILL");
    await p.docker("f1", "kill", doomed);
    const born = await p.run("f1");
    await p.startEmitter("f1");
    const [d] = await p.converged(["f1"]);
    assert.equal(d?.running, 2);
    assert.deepEqual(servicesOf("f1", doomed), [], "the container that died while no emitter ran is gone");
    assert.equal(servicesOf("f1", born).length, 1, "the one born meanwhile is registered");
  });

  test("faults - a handler killed with SIGKILL mid-batch: redelivered and applied once in effect", async (t) => {
    if (!p.ready(t)) return;
    const victim = p.handlers[0]!;
    const seen = victim.logs.length;
    const starting = Promise.all(Array.from({ length: 12 }, () => p.run("f2")));
    await victim.waitForLog((l) => victim.logs.indexOf(l) >= seen && l.msg === "applied", "the victim applying the batch");
    await p.killHandler(victim);
    const ids = await starting;
    await p.converged(["f2"], 60_000);
    const services = Object.values(p.agent("f2").services()).map((s) => s.ID);
    assert.equal(new Set(services).size, services.length);
    assert.deepEqual(
      ids.map((id) => servicesOf("f2", id).length),
      ids.map(() => 1),
      "each of the 12 has its one service",
    );
    await p.startHandler();
  });

  test("faults - the NATS server restarted: both sides reconnect and nothing is lost", async (t) => {
    if (!p.ready(t)) return;
    const [id] = await Promise.all([p.run("f1"), p.nats!.restart()]);
    await p.converged();
    const [service] = servicesOf("f1", id);
    assert.equal(
      service?.Port,
      Number((await p.docker("f1", "port", id, "8080/tcp")).split(":").at(-1)),
      "registered on its published port",
    );
    await p.docker("f1", "kill", id);
    await p.converged();
    assert.deepEqual(servicesOf("f1", id), [], "and removed once killed");
  });

  test("faults - one agent down: its work waits and applies when it returns, other nodes keep flowing", async (t) => {
    if (!p.ready(t)) return;
    await p.stopAgent("f2");
    const waiting = await p.run("f2");
    const flowing = await p.run("f1");
    await p.converged(["f1"]);
    assert.equal(servicesOf("f1", flowing).length, 1, "f1's container registered while f2's agent is down");
    const deferred = p.handlers.map((h) =>
      h.waitForLog((l) => l.msg === "deferred" && l["container"] === waiting, "the event left to f2's repair", 20_000),
    );
    await Promise.any(deferred);
    await p.startAgent("f2"); // a new, empty agent: reconciliation also restores what it lost
    const [d] = await p.converged(["f2"], 60_000);
    assert.equal(servicesOf("f2", waiting).length, 1, "the container that waited is registered");
    assert.equal(Object.values(p.agent("f2").services()).length, d!.running, "and every other running one restored");
  });

  test("faults - the Docker event stream cut: resumed with since, no event lost", async (t) => {
    if (!p.ready(t)) return;
    const emitter = p.emitter("f1");
    const victim = await p.run("f1");
    await p.converged(["f1"]);
    const seen = emitter.logs.length;
    proxy!.cut({ refusing: true });
    await p.docker("f1", "kill", victim); // its die happens while the emitter cannot see Docker
    const late = await p.run("f1");
    proxy!.accept();
    const published = (id: string, type: string) => (l: { msg: string; [k: string]: unknown }) =>
      emitter.logs.indexOf(l as never) >= seen && l.msg === "published" && l["container"] === id && l["type"] === type;
    await emitter.waitForLog(published(victim, "io.berth.container.stopped"), "the die replayed with since", 20_000);
    await emitter.waitForLog(published(late, "io.berth.container.started"), "the start replayed with since", 20_000);
    await p.converged(["f1"]);
    assert.deepEqual([servicesOf("f1", victim).length, servicesOf("f1", late).length], [0, 1]);
  });

  test("faults - 100 containers started at once, then killed at once: 100 registered, then 100 removed", async (t) => {
    if (!p.ready(t)) return;
    const before = (await p.drift("f1")).running;
    const ids = await Promise.all(Array.from({ length: 100 }, () => p.run("f1")));
    const [up] = await p.converged(["f1"], 60_000);
    assert.equal(up?.running, before + 100);
    assert.equal(ids.filter((id) => servicesOf("f1", id).length === 1).length, 100);
    await p.docker("f1", "kill", ...ids);
    const [down] = await p.converged(["f1"], 60_000);
    assert.equal(down?.running, before);
    assert.equal(ids.filter((id) => servicesOf("f1", id).length > 0).length, 0);
    t.diagnostic(`100 registered, then 100 removed (${before} others kept)`);
  });
});
