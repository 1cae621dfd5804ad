// A permanent refusal end to end (issue 12): a real nats-server, a handler process, an agent double
// answering as a Consul agent with its defaults (script checks refused). One of a container's two
// services has a script check: the other registers, the refused one gets its fallback, the event is
// dead-lettered once — visible in `berth status` and the metrics — and the node's snapshots do not
// ask the agent again.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, test, type TestContext } from "node:test";
import type { StatusReport } from "../cli/status-report.ts";
import { refusedCheckId } from "../handler/apply.ts";
import { toNodeSnapshot } from "../schemas/index.ts";
import { event, ID_A, publish } from "./builders.ts";
import { cleanupAll } from "./harness/cleanup.ts";
import { freePort } from "./harness/ports.ts";
import { waitFor } from "./harness/wait.ts";
import { get, parseExposition, valueOf } from "./metrics-scrape.ts";
import { startPipeline, type Pipeline } from "./pipeline/index.ts";

const PREFIX = "answers";
const BIN = new URL("../bin/berth.js", import.meta.url).pathname;
const SCRIPTS_DISABLED = "Scripts are disabled on this agent from remote calls; to enable, configure 'enable_script_checks' to true";
const SCRIPTED = `node1:svc4:${ID_A.slice(0, 12)}:8080`;
const PLAIN = `node1:svc4:${ID_A.slice(0, 12)}:9090`;

describe("agent answers", () => {
  let p: Pipeline;
  let metricsPort: number;

  const env = () => ({ PATH: process.env.PATH ?? "", ...p.env(), BERTH_CONSUL_AGENTS: p.agentsEnv() });
  const status = () =>
    new Promise<StatusReport>((resolve, reject) =>
      execFile(process.execPath, [BIN, "status", "--json"], { env: env(), timeout: 30_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(stderr)) : resolve(JSON.parse(stdout) as StatusReport),
      ),
    );
  const metrics = async () => parseExposition((await get(`http://127.0.0.1:${metricsPort}/metrics`)).body);
  const registers = () => p.agent("node1").requests.filter((r) => r.path === "/v1/agent/service/register").length;

  before(async () => {
    metricsPort = await freePort();
    // node1's agent answers as a Consul agent with its defaults: script checks refused.
    p = await startPipeline({
      prefix: PREFIX,
      nodes: [{ name: "node1" }],
      handlerEnv: { BERTH_METRICS_PORT: String(metricsPort), BERTH_METRICS_ADDRESS: "127.0.0.1" },
      bus: true,
    });
  });
  after(cleanupAll);

  const prerequisites = (t: TestContext) => p.ready(t);
  const agent = () => p.agent("node1");
  const handler = () => p.handlers[0]!;

  test("agent answers - a script check refused: the other service registers, the refused one falls back, one dead letter, and snapshots leave it be", async (t) => {
    if (!prerequisites(t)) return;
    const started = event({
      node: "node1",
      container: {
        ports: publish("8080:8080", "9090:9090"),
        env: { SERVICE_NAME: "app", SERVICE_8080_CHECK_SCRIPT: "curl -f localhost:8080", SERVICE_9090_CHECK_TCP: "true" },
      },
      timeNano: BigInt(Date.now()) * 1_000_000n,
    });
    await p.publish(started);
    const letter = await handler().waitForLog(
      (l) => l.msg === "dead-lettered" && l["reason"] === "agent-rejected",
      "the refusal dead-lettered",
    );
    assert.match(String((letter["problems"] as string[])[0]), new RegExp(`^agent\\.service\\.register 500: ${SCRIPTS_DISABLED}`));
    assert.deepEqual(Object.keys(agent().services()).sort(), [SCRIPTED, PLAIN]);
    assert.equal(agent().checks()[refusedCheckId(SCRIPTED)]?.Status, "critical");
    assert.equal(
      handler().logs.some((l) => l.msg === "deferred" || l.msg === "retrying"),
      false,
      "not trouble that passes: nothing waits, nothing is retried",
    );

    const report = await status();
    assert.equal(report.deadLetters.byReason["agent-rejected"], 1);
    assert.match(report.deadLetters.last[0]?.problems[0] ?? "", /Scripts are disabled on this agent/);
    assert.equal(report.nodes.find((n) => n.name === "node1")?.drift?.missing, 0, "berth status sees no drift: the fallback is current");
    const m = await metrics();
    assert.equal(valueOf(m, "berth_events_dead_lettered_total", { reason: "agent-rejected", node: "node1" }), 1);
    assert.equal(valueOf(m, "berth_nodes_waiting"), 0);

    const before = registers();
    for (let i = 1; i <= 3; i++) {
      const snapshot = toNodeSnapshot({ name: "node1", hostIp: "10.0.0.1" }, BigInt(Date.now()) * 1_000_000n, [started.subject]);
      await p.publish(snapshot);
      await waitFor(() => handler().logs.filter((l) => l.msg === "reconciled" && l["node"] === "node1").length >= i, {
        what: `snapshot ${i}`,
      });
    }
    assert.equal(registers(), before, "reconciliation does not register the refused service again");
    assert.equal(handler().logs.filter((l) => l.msg === "dead-lettered").length, 1, "nor dead-letter it again");
    assert.equal(valueOf(await metrics(), "berth_events_dead_lettered_total", { reason: "agent-rejected", node: "node1" }), 1);
  });
});
