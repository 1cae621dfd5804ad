// Issue 24: a cluster's first seconds are not an error. berth's processes (an emitter and two
// handlers, BERTH_REPLICAS=3) start at the same moment as two of three fresh nats-servers; the third
// comes up only after each process has said what it waits for. Meanwhile NATS refuses to place three
// replicas ("no suitable peers for placement": what crash-looped berth in one `up` of thirteen) —
// berth waits, one line says for what, /readyz says not ready; then it comes up without a restart
// and registers a container.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { BerthProcess, LogLine } from "./berth-process.ts";
import { cleanupAll } from "./harness/cleanup.ts";
import { httpGet } from "./harness/http.ts";
import type { NatsCluster } from "./harness/nats-cluster.ts";
import { waitFor } from "./harness/wait.ts";
import { startPipeline, type Pipeline } from "./pipeline/index.ts";

const NODE = "s1";

describe("nats startup", () => {
  let c: Pipeline;
  let nats: NatsCluster;

  before(async () => {
    c = await startPipeline({
      prefix: "su",
      nats: { cluster: 3, deferred: true },
      env: { BERTH_REPLICAS: "3", BERTH_METRICS_PORT: "0", BERTH_METRICS_ADDRESS: "127.0.0.1" },
      nodes: [{ name: NODE, ip: "127.0.0.63", engine: "docker", emitter: { deferred: true } }],
      handlers: 0,
    });
    if (c.started) nats = c.natsCluster!;
  });
  after(cleanupAll);

  const readyz = async (p: BerthProcess) => {
    const port = (await p.waitForLog((l) => l.msg === "metrics listening", "metrics listening")).port as number;
    return (await httpGet(`http://127.0.0.1:${port}/readyz`, { timeoutMs: 2000 })).status;
  };
  const waitsForPlacement = (l: LogLine) => l.msg === "waiting for JetStream" && /3 JetStream servers/.test(String(l.waiting_for));

  test("startup - servers starting with berth, the third late: berth waits, says for what, is not ready; then up without a restart", async (t) => {
    if (!c.ready(t)) return;
    const emitterEnv = { DOCKER_HOST: c.engine(NODE).host, BERTH_NODE: NODE, BERTH_HOST_IP: "127.0.0.63" };
    const starting = [nats.start(1), nats.start(2)];
    const processes = await Promise.all([
      c.spawn("emitter", emitterEnv),
      c.spawn("handler", c.handlerEnv()),
      c.spawn("handler", c.handlerEnv()),
    ]);
    await Promise.all(starting);
    for (const p of processes) {
      const line = await p.waitForLog(waitsForPlacement, "waiting for 3 JetStream servers", 30_000);
      t.diagnostic(`${p.pid}: ${String(line.waiting_for)}`);
      assert.equal(await readyz(p), 503, "not ready while it waits");
    }
    await nats.start(3);
    const [emitter, ...handlers] = processes as [BerthProcess, ...BerthProcess[]];
    await emitter.waitForLog((l) => l.msg === "watching docker", "the emitter watching Docker", 30_000);
    for (const h of handlers) await h.waitForLog((l) => l.msg === "started", "the handler started", 30_000);
    const id = await c.run(NODE);
    await waitFor(() => Object.values(c.agent(NODE).services()).some((s) => s.Meta["berth_container"] === id), {
      what: "a container registered",
      timeoutMs: 15_000,
    });
    for (const p of processes) {
      assert.equal(await readyz(p), 200, "ready");
      assert.equal(p.logs.filter(waitsForPlacement).length, 1, "the wait said once");
      assert.equal(await Promise.race([p.exited.then(() => "exited"), Promise.resolve("running")]), "running");
    }
  });
});
