// The handler's outcomes against a real nats-server and agent doubles, without Docker:
// events are published the way the emitter publishes them.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { connectBus, ensureJetStream, publishDurable, type Bus } from "../common/nats/index.ts";
import { readDeadLetters } from "./dead-letters.ts";
import { subjectFor, type ContainerEvent } from "../schemas/index.ts";
import { startBerth, type BerthProcess } from "./berth-process.ts";
import { bytesOf, event } from "./builders.ts";
import { startConsulDouble, type ConsulDouble } from "./consul-double/index.ts";
import { cleanupAll, registerCleanup } from "./harness/cleanup.ts";
import { canStartNatsServer, startNatsServer, type NatsServer } from "./harness/nats.ts";
import { freePort } from "./harness/ports.ts";
import { requireOrSkip } from "./harness/prereq.ts";
import { waitFor } from "./harness/wait.ts";

const PREFIX = "pipe";

describe("pipeline", () => {
  let nats: NatsServer;
  let bus: Bus;
  let agentPort: number;
  let agent: ConsulDouble;
  let handler: BerthProcess;
  let ready = false;

  const publish = (e: ContainerEvent) => publishDurable(bus, subjectFor(PREFIX, e), bytesOf(e), e.id);
  const letters = async () =>
    (await readDeadLetters(bus, 100)).map((m) => ({
      ...(JSON.parse(new TextDecoder().decode(m.data)) as { reason: string; problems: string[]; subject: string }),
      dlqSubject: m.subject,
    }));

  before(async () => {
    if (!canStartNatsServer()) return;
    nats = await startNatsServer();
    bus = await connectBus({ NATS_URL: nats.url, BERTH_PREFIX: PREFIX }, "pipeline-test");
    registerCleanup("pipeline bus", () => bus.drain());
    await ensureJetStream(bus);
    agentPort = await freePort();
    agent = await startConsulDouble({ node: "node1", port: agentPort });
    const first = agent; // each double's cleanup closes that double, not whatever `agent` holds later
    registerCleanup("pipeline agent double", () => first.close());
    handler = await startBerth("handler", { NATS_URL: nats.url, BERTH_PREFIX: PREFIX, BERTH_CONSUL_AGENTS: `node1=${agent.url}` });
    await handler.waitForLog((l) => l.msg === "started", "handler started");
    ready = true;
  });
  after(cleanupAll);

  const prerequisites = (t: import("node:test").TestContext) => requireOrSkip(t, "nats-server", ready);

  test("pipeline - an invalid message is dead-lettered with its reasons and does not stop the worker", async (t) => {
    if (!prerequisites(t)) return;
    await publishDurable(bus, `${PREFIX}.v1.node1.container.started`, bytesOf("{oops"), "bad-1");
    const bad = event({ node: "node1" }) as unknown as { data: { container: { env: Record<string, string> } } };
    bad.data.container.env = { DB_PASSWORD: "x" };
    await publishDurable(bus, `${PREFIX}.v1.node1.container.started`, bytesOf(bad), "bad-2");
    const found = await waitFor(
      async () => {
        const l = await letters();
        return l.length >= 2 && l;
      },
      { what: "two dead letters" },
    );
    assert.deepEqual(
      found.map((l) => [l.dlqSubject, l.reason, l.subject]),
      [0, 1].map(() => [`${PREFIX}.v1.dlq.schema`, "schema", `${PREFIX}.v1.node1.container.started`]),
    );
    assert.match(found[1]!.problems.join(), /\/data\/container\/env/);
    const good = event({ node: "node1", container: { name: "after-bad" } });
    await publish(good);
    await waitFor(() => Object.values(agent.services()).some((s) => s.Meta["berth_container"] === good.subject), {
      what: "a valid event after the bad ones is applied",
    });
  });

  test("pipeline - events of a node without an agent, or whose subject names another node, are dead-lettered", async (t) => {
    if (!prerequisites(t)) return;
    const before = (await letters()).length;
    await publish(event({ node: "node9" }));
    const forged = event({ node: "node1", container: { id: "f".repeat(64) } });
    await publishDurable(bus, `${PREFIX}.v1.node9.container.started`, bytesOf(forged), "forged-1");
    const found = await waitFor(
      async () => {
        const l = await letters();
        return l.length >= before + 2 && l.slice(before);
      },
      { what: "two more dead letters" },
    );
    assert.deepEqual(found.map((l) => l.reason).sort(), ["subject-mismatch", "unknown-node"]);
    assert.equal(Object.values(agent.services()).filter((s) => s.Meta["berth_container"] === "f".repeat(64)).length, 0);
  });

  test("pipeline - while the agent is down events wait; when it returns they are applied", async (t) => {
    if (!prerequisites(t)) return;
    await agent.close();
    const started = event({ node: "node1", container: { id: "c".repeat(64), name: "waits" }, timeNano: 10n });
    await publish(started);
    const deferred = await handler.waitForLog(
      (l) => l.msg === "deferred" && l["container"] === started.subject,
      "the event left to its node's repair",
    );
    assert.match(String(deferred["waiting_for"]), /^agent unreachable: /);
    agent = await startConsulDouble({ node: "node1", port: agentPort });
    const restarted = agent;
    registerCleanup("pipeline agent double (restarted)", () => restarted.close());
    await waitFor(() => Object.values(agent.services()).some((s) => s.Meta["berth_container"] === started.subject), {
      what: "the event applied after the agent returned",
      timeoutMs: 20_000,
    });
  });

  test("pipeline - a duplicate publish is dropped by JetStream", async (t) => {
    if (!prerequisites(t)) return;
    const e = event({ node: "node1", container: { id: "d".repeat(64) } });
    assert.equal((await publish(e)).duplicate, false);
    assert.equal((await publish(e)).duplicate, true);
  });
});
