// `berth status` against a running pipeline: a real nats-server, a handler process, agent doubles;
// events are published the way the emitter publishes them.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { connectBus, ensureJetStream, publishDurable, type Bus } from "../common/nats/index.ts";
import type { StatusReport } from "../cli/status-report.ts";
import { subjectFor, type ContainerEvent, toNodeSnapshot } from "../schemas/index.ts";
import { startBerth, type BerthProcess } from "./berth-process.ts";
import { bytesOf, event } from "./builders.ts";
import { startConsulDouble, type ConsulDouble } from "./consul-double/index.ts";
import { cleanupAll, registerCleanup } from "./harness/cleanup.ts";
import { canStartNatsServer, startNatsServer, type NatsServer } from "./harness/nats.ts";
import { freePort } from "./harness/ports.ts";
import { requireOrSkip } from "./harness/prereq.ts";
import { waitFor } from "./harness/wait.ts";

const PREFIX = "stat";
const BIN = new URL("../bin/berth.js", import.meta.url).pathname;
const idOf = (digit: string) => digit.repeat(64);

type Run = { code: number; stdout: string; stderr: string };

describe("berth status", () => {
  let nats: NatsServer;
  let bus: Bus;
  const agents: Record<"node1" | "node2", ConsulDouble> = {} as never;
  let downAgentPort: number;
  let handler: BerthProcess;
  let ready = false;

  const publish = (e: ContainerEvent) => publishDurable(bus, subjectFor(PREFIX, e), bytesOf(e), e.id);
  const env = () => ({
    PATH: process.env.PATH ?? "",
    NATS_URL: nats.url,
    BERTH_PREFIX: PREFIX,
    BERTH_CONSUL_AGENTS: `node1=${agents.node1.url},node2=${agents.node2.url},node3=http://127.0.0.1:${downAgentPort}`,
  });
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
    if (!canStartNatsServer()) return;
    nats = await startNatsServer();
    bus = await connectBus({ NATS_URL: nats.url, BERTH_PREFIX: PREFIX }, "status-test");
    registerCleanup("status bus", () => bus.drain());
    await ensureJetStream(bus);
    for (const name of ["node1", "node2"] as const) {
      agents[name] = await startConsulDouble({ node: name });
      registerCleanup(`${name} agent double`, () => agents[name].close());
    }
    downAgentPort = await freePort();
    handler = await startBerth("handler", env());
    await handler.waitForLog((l) => l.msg === "started", "handler started");
    // node1: two running containers and one stopped; node2: one running; node9 has no agent.
    await publish(event({ node: "node1", container: { id: idOf("1"), name: "web1" }, timeNano: 10n }));
    await publish(event({ node: "node1", container: { id: idOf("2"), name: "web2" }, timeNano: 20n }));
    await publish(event({ node: "node1", container: { id: idOf("3"), name: "gone" }, timeNano: 30n }));
    await publish(
      event({ type: "io.berth.container.stopped", node: "node1", container: { id: idOf("3"), name: "gone", exitCode: 0 }, timeNano: 40n }),
    );
    await publish(event({ node: "node2", container: { id: idOf("4"), name: "db" }, timeNano: 50n }));
    await publish(event({ node: "node9", container: { id: idOf("5"), name: "lost" }, timeNano: 60n }));
    await waitFor(
      () =>
        owned(agents.node1, idOf("2")).length === 1 &&
        owned(agents.node1, idOf("3")).length === 0 &&
        owned(agents.node2, idOf("4")).length === 1,
      { what: "the events applied" },
    );
    await handler.waitForLog((l) => l.msg === "dead-lettered", "node9's event dead-lettered");
    ready = true;
  });
  after(cleanupAll);

  const prerequisites = (t: import("node:test").TestContext) => requireOrSkip(t, "nats-server", ready);

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
    await publish(event({ node: "node3", container: { id: idOf("9"), name: "late" }, timeNano: 90n }));
    // The handler records the change, asks for node3's repair and acks: node3 waits for its agent.
    const waiting = await waitFor(async () => node(await report(), "node3")?.waiting ?? undefined, { what: "node3 waiting" });
    assert.equal(waiting.for, "unreachable");
    assert.match(waiting.reason, new RegExp(`^agent unreachable: .*ECONNREFUSED 127\\.0\\.0\\.1:${downAgentPort}`));
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
        `^  node3  waiting since \\d\\d:\\d\\d:\\d\\d UTC \\(\\d+ s\\): agent unreachable: .*ECONNREFUSED 127\\.0\\.0\\.1:${downAgentPort}\\b`,
        "m",
      ),
    );
    assert.match(table.stdout, /^node3(\s+\S+){6}\s+\d+ s\s+\S/m, "node3's row says how long it has waited");
    // node3's agent answers again: a handler repairs the node from the state bucket, and it no longer waits.
    const agent3 = await startConsulDouble({ node: "node3", port: downAgentPort });
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
      await agent3.close(); // node3's agent down again, as the other tests expect it
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
    const [svc] = owned(agents.node1, idOf("1"));
    assert.equal(
      (await fetch(`${agents.node1.url}/v1/agent/service/deregister/${encodeURIComponent(svc!.ID)}`, { method: "PUT" })).status,
      200,
    );
    const orphan = { ID: "node2:orphan:1", Name: "orphan", Port: 1, Meta: { berth_node: "node2", berth_container: idOf("6") } };
    assert.equal(
      (await fetch(`${agents.node2.url}/v1/agent/service/register`, { method: "PUT", body: JSON.stringify(orphan) })).status,
      200,
    );
    const r = await report();
    assert.deepEqual(node(r, "node1")?.drift, { containers: [idOf("1")], missing: 1, stale: 0 });
    assert.deepEqual(node(r, "node2")?.drift, { containers: [idOf("6")], missing: 0, stale: 1 });
  });

  test("berth status - a node's last snapshot, beside the handlers' own bookkeeping keys", async (t) => {
    if (!prerequisites(t)) return;
    const snapshot = toNodeSnapshot({ name: "node2", hostIp: "10.0.0.2" }, 1_700_000_000_000_000_000n, [idOf("4")]);
    await publishDurable(bus, subjectFor(PREFIX, snapshot), bytesOf(snapshot), snapshot.id);
    await handler.waitForLog((l) => l.msg === "reconciled" && l.node === "node2", "node2 reconciled");
    const r = await report();
    assert.deepEqual(
      r.nodes.map((n) => n.name),
      ["node1", "node2", "node3"],
    );
    assert.equal(node(r, "node2")?.lastSnapshot, new Date(1_700_000_000_000).toISOString());
  });

  test("berth status - consumer lag counts what no handler has taken yet", async (t) => {
    if (!prerequisites(t)) return;
    await handler.stop();
    await publish(event({ node: "node2", container: { id: idOf("7"), name: "queued" }, timeNano: 70n }));
    await publish(event({ node: "node2", container: { id: idOf("8"), name: "queued2" }, timeNano: 80n }));
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
