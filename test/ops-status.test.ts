// `berth status` against a running pipeline: a real nats-server, a handler process, agent doubles;
// events are published the way the emitter publishes them.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, test } from "node:test";
import type { StatusReport } from "../cli/status-report.ts";
import { toNodeSnapshot } from "../schemas/index.ts";
import { event } from "./builders.ts";
import type { ConsulDouble } from "./consul-double/index.ts";
import { cleanupAll } from "./harness/cleanup.ts";
import { waitFor } from "./harness/wait.ts";
import { startPipeline, type Pipeline } from "./pipeline/index.ts";

const PREFIX = "stat";
const BIN = new URL("../bin/berth.js", import.meta.url).pathname;
const idOf = (digit: string) => digit.repeat(64);

type Run = { code: number; stdout: string; stderr: string };

describe("berth status", () => {
  let p: Pipeline;
  const env = () => ({ PATH: process.env.PATH ?? "", ...p.handlerEnv() });
  const runStatus = (...args: string[]) =>
    new Promise<Run>((resolve) =>
      execFile(process.execPath, [BIN, "status", ...args], { env: env(), timeout: 30_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );
  const report = async () => {
    const run = await runStatus("--json");
    assert.equal(run.code, 0, run.stderr);
    return JSON.parse(run.stdout) as StatusReport;
  };
  const node = (r: StatusReport, name: string) => r.nodes.find((n) => n.name === name);
  const owned = (agent: ConsulDouble, container: string) =>
    Object.values(agent.services()).filter((s) => s.Meta["berth_container"] === container);

  before(async () => {
    p = await startPipeline({ prefix: PREFIX, nodes: [{ name: "node1" }, { name: "node2" }, { name: "node3" }], bus: true });
    if (!p.started) return;
    await p.stopAgent("node3"); // node3's agent is down (nothing answers on its port) until a test starts it
    // node1: two running containers and one stopped; node2: one running; node9 has no agent.
    const node1 = [
      event({ node: "node1", container: { id: idOf("1"), name: "web1" }, timeNano: 10n }),
      event({ node: "node1", container: { id: idOf("2"), name: "web2" }, timeNano: 20n }),
      event({ node: "node1", container: { id: idOf("3"), name: "gone" }, timeNano: 30n }),
      event({ type: "io.berth.container.stopped", node: "node1", container: { id: idOf("3"), name: "gone", exitCode: 0 }, timeNano: 40n }),
    ];
    const node2 = [event({ node: "node2", container: { id: idOf("4"), name: "db" }, timeNano: 50n })];
    for (const e of [...node1, ...node2, event({ node: "node9", container: { id: idOf("5"), name: "lost" }, timeNano: 60n })])
      await p.publish(e);
    await p.holds("node1", [node1[0]!, node1[1]!]); // the events applied, each as mapped, and the stopped one's service gone
    await p.holds("node2", node2);
    await p.handlers[0]!.waitForLog((l) => l.msg === "dead-lettered", "node9's event dead-lettered");
  });
  after(cleanupAll);

  const prerequisites = (t: import("node:test").TestContext) => p.ready(t);
  const agents = { node1: () => p.agent("node1"), node2: () => p.agent("node2") };
  const handler = () => p.handlers[0]!;
  const downAgentPort = () => new URL(p.agentUrl("node3")).port;

  test("berth status - nodes with their running containers, berth-owned services and last event", async (t) => {
    if (!prerequisites(t)) return;
    const r = await report();
    assert.deepEqual(
      r.nodes.map((n) => n.name),
      ["node1", "node2", "node3"],
    );
    assert.deepEqual(
      ["node1", "node2"].map((name) => {
        const n = node(r, name);
        return [n?.containers, n?.services, n?.agent];
      }),
      [
        [2, 2, "ok"],
        [1, 1, "ok"],
      ],
    );
    assert.equal(node(r, "node2")?.lastEvent, new Date(0).toISOString(), "timeNano 50 ns is the epoch to the millisecond");
  });

  test("berth status - an agent that cannot be reached is reported, not fatal", async (t) => {
    if (!prerequisites(t)) return;
    const n3 = node(await report(), "node3");
    assert.equal(n3?.services, null);
    assert.match(n3.agent, /unreachable|ECONNREFUSED/);
  });

  test("berth status - a node whose agent is down waits, with the agent's reason; no longer once the agent is back and the node repaired", async (t) => {
    if (!prerequisites(t)) return;
    const before = await report();
    assert.deepEqual(before.waiting, { count: 0, nodes: [] }, "nothing waits before node3 has a change");
    await p.publish(event({ node: "node3", container: { id: idOf("9"), name: "late" }, timeNano: 90n }));
    // The handler records the change, asks for node3's repair and acks: node3 waits for its agent.
    const waiting = await waitFor(async () => node(await report(), "node3")?.waiting ?? undefined, { what: "node3 waiting" });
    assert.equal(waiting.for, "unreachable");
    assert.match(waiting.reason, new RegExp(`^agent unreachable: .*ECONNREFUSED 127\\.0\\.0\\.1:${downAgentPort()}`));
    assert.ok(Date.parse(waiting.since) <= Date.parse(waiting.requested), "since the trouble began, at or before the request");
    const r = await report();
    assert.deepEqual(r.waiting, { count: 1, nodes: ["node3"] });
    assert.equal(node(r, "node1")?.waiting, null);
    const table = await runStatus();
    assert.equal(table.code, 0, table.stderr);
    t.diagnostic(`\n${table.stdout}`);
    assert.match(table.stdout, /^nodes waiting for their agent: 1 of 3 \(unreachable 1\)$/m);
    assert.match(
      table.stdout,
      new RegExp(
        `^  node3  waiting since \\d\\d:\\d\\d:\\d\\d UTC \\(\\d+ s\\): agent unreachable: .*ECONNREFUSED 127\\.0\\.0\\.1:${downAgentPort()}\\b`,
        "m",
      ),
    );
    assert.match(table.stdout, /^node3(\s+\S+){6}\s+\d+ s\s+\S/m, "node3's row says how long it has waited");
    // node3's agent answers again: a handler repairs the node from the state bucket, and it no longer waits.
    const agent3 = await p.startAgent("node3");
    try {
      await waitFor(() => owned(agent3, idOf("9")).length === 1, { what: "node3 repaired" });
      const after = await waitFor(
        async () => {
          const r2 = await report();
          return node(r2, "node3")?.waiting === null ? r2 : undefined;
        },
        { what: "node3 no longer waiting" },
      );
      assert.deepEqual(after.waiting, { count: 0, nodes: [] });
      assert.equal(node(after, "node3")?.agent, "ok");
      assert.match((await runStatus()).stdout, /^nodes waiting for their agent: 0 of 3$/m);
    } finally {
      await p.stopAgent("node3"); // node3's agent down again, as the other tests expect it
    }
  });

  test("berth status - dead letters: count, count per reason, and the last ones with their problems", async (t) => {
    if (!prerequisites(t)) return;
    const { deadLetters } = await report();
    assert.equal(deadLetters.count, 1);
    assert.deepEqual(deadLetters.byReason, { "unknown-node": 1 });
    assert.deepEqual(
      deadLetters.last.map((d) => [d.reason, d.subject]),
      [["unknown-node", `${PREFIX}.v1.node9.container.started`]],
    );
    assert.match(deadLetters.last[0]?.problems.join() ?? "", /node9/);
  });

  test("berth status - drift: a service removed behind berth's back is missing, one it holds no state for is stale", async (t) => {
    if (!prerequisites(t)) return;
    const [svc] = owned(agents.node1(), idOf("1"));
    assert.equal(
      (await fetch(`${p.agentUrl("node1")}/v1/agent/service/deregister/${encodeURIComponent(svc!.ID)}`, { method: "PUT" })).status,
      200,
    );
    const orphan = { ID: "node2:orphan:1", Name: "orphan", Port: 1, Meta: { berth_node: "node2", berth_container: idOf("6") } };
    assert.equal(
      (await fetch(`${p.agentUrl("node2")}/v1/agent/service/register`, { method: "PUT", body: JSON.stringify(orphan) })).status,
      200,
    );
    const r = await report();
    assert.deepEqual(node(r, "node1")?.drift, { containers: [idOf("1")], missing: 1, stale: 0 });
    assert.deepEqual(node(r, "node2")?.drift, { containers: [idOf("6")], missing: 0, stale: 1 });
  });

  test("berth status - a node's last snapshot, beside the handlers' own bookkeeping keys", async (t) => {
    if (!prerequisites(t)) return;
    const snapshot = toNodeSnapshot({ name: "node2", hostIp: "10.0.0.2" }, 1_700_000_000_000_000_000n, [idOf("4")]);
    await p.publish(snapshot);
    await handler().waitForLog((l) => l.msg === "reconciled" && l.node === "node2", "node2 reconciled");
    const r = await report();
    assert.deepEqual(
      r.nodes.map((n) => n.name),
      ["node1", "node2", "node3"],
    );
    assert.equal(node(r, "node2")?.lastSnapshot, new Date(1_700_000_000_000).toISOString());
  });

  test("berth status - consumer lag counts what no handler has taken yet", async (t) => {
    if (!prerequisites(t)) return;
    await handler().stop();
    await p.publish(event({ node: "node2", container: { id: idOf("7"), name: "queued" }, timeNano: 70n }));
    await p.publish(event({ node: "node2", container: { id: idOf("8"), name: "queued2" }, timeNano: 80n }));
    const { consumer, stream } = await report();
    assert.ok(!("error" in consumer));
    assert.equal(consumer.pending, 2);
    assert.equal(stream.messages, 2);
  });

  test("berth status - the table for people names every node and the dead letters", async (t) => {
    if (!prerequisites(t)) return;
    const run = await runStatus();
    assert.equal(run.code, 0, run.stderr);
    t.diagnostic(`\n${run.stdout}`);
    const lines = run.stdout.split("\n");
    assert.ok(
      lines.some((l) => /^NODE\s+LAST EVENT\s+LAST SNAPSHOT\s+CONTAINERS\s+SERVICES\s+MISSING\s+STALE\s+WAITING\s+AGENT$/.test(l)),
      run.stdout,
    );
    assert.ok(
      lines.some((l) => /^node1\s+\S+\s+-\s+2\s+1\s+1\s+0\s+-\s+ok$/.test(l)),
      run.stdout,
    );
    assert.match(run.stdout, /^dead letters: 1 \(unknown-node 1\)$/m);
  });

  test("berth status - a bad argument exits 2 with the usage", async (t) => {
    if (!prerequisites(t)) return;
    const run = await runStatus("--bogus");
    assert.equal(run.code, 2);
    assert.match(run.stderr, /usage: berth status/);
  });
});
