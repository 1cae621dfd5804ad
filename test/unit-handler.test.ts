import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConsulError } from "../consul/client.ts";
import { handleMessage, retryDelay, type HandlerDeps } from "../handler/consume.ts";
import { deadLetterBody, type DeadLetterReason } from "../handler/dead-letter.ts";
import { subjectFor, type ContainerEvent } from "../schemas/index.ts";
import { bytesOf, event, handlerDeps, ID_A, memoryAgent, message } from "./builders.ts";

function setup(nodes = ["node3"]) {
  const agent = memoryAgent();
  const letters: { reason: DeadLetterReason; problems: string[]; body: unknown }[] = [];
  let dlqDown = false;
  const { deps, repairs } = handlerDeps(agent, {
    agentFor: (node) => (nodes.includes(node) ? agent : undefined),
    deadLetter(msg, reason, problems) {
      if (dlqDown) return Promise.reject(new Error("nats down"));
      letters.push({ reason, problems, body: JSON.parse(new TextDecoder().decode(deadLetterBody(msg, reason, problems))) });
      return Promise.resolve();
    },
  });
  return { deps, agent, letters, repairs, setDlqDown: (down: boolean) => void (dlqDown = down) };
}

const send = async (
  deps: HandlerDeps,
  e: ContainerEvent | string,
  subject = typeof e === "string" ? "berth.v1.node3.container.started" : subjectFor("berth", e),
  delivery = 1,
) => {
  const { msg, settled } = message(subject, bytesOf(e), delivery);
  await handleMessage(deps, msg);
  return settled;
};

describe("handler", () => {
  test("handler - a start registers the container's services and acks", async () => {
    const { deps, agent } = setup();
    assert.deepEqual(await send(deps, event()), { acked: 1, naks: [] });
    assert.deepEqual([...agent.services_.keys()], [`node3:svc4:${ID_A.slice(0, 12)}:8080`]);
  });

  test("handler - a stop removes every service of that container and only those", async () => {
    const { deps, agent } = setup();
    await send(deps, event());
    agent.services_.set("foreign", { ID: "foreign", Name: "svc4", Meta: { berth_container: "nope" } });
    agent.services_.set("handmade", { ID: "handmade", Name: "db" });
    assert.deepEqual(await send(deps, event({ type: "io.berth.container.stopped", timeNano: 1_700_000_000_000_000_001n })), {
      acked: 1,
      naks: [],
    });
    assert.deepEqual([...agent.services_.keys()], ["foreign", "handmade"]);
  });

  test("handler - an older start delivered after the stop does not resurrect the service", async () => {
    const { deps, agent } = setup();
    await send(deps, event({ type: "io.berth.container.stopped", timeNano: 2n }));
    assert.deepEqual(await send(deps, event({ timeNano: 1n })), { acked: 1, naks: [] });
    assert.equal(agent.services_.size, 0);
  });

  test("handler - a start and its stop applied concurrently end with the service gone, in every order", async () => {
    // Worker A holds the start inside its register call while worker B stores and applies the stop.
    for (const releaseFirst of ["start", "stop"] as const) {
      const { deps, agent } = setup();
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      agent.gateWith(async (op) => (op.startsWith("register") ? held : undefined));
      const a = send(deps, event({ timeNano: 1n }));
      await new Promise((r) => setImmediate(r));
      if (releaseFirst === "start") release();
      const b = send(deps, event({ type: "io.berth.container.stopped", timeNano: 2n }));
      if (releaseFirst === "stop") {
        await b;
        release();
      }
      await Promise.all([a, b]);
      assert.equal(agent.services_.size, 0, `order ${releaseFirst}: ${agent.calls.join(", ")}`);
    }
  });

  test("handler - an undecodable message is dead-lettered with the reason and acked", async () => {
    const { deps, letters } = setup();
    assert.deepEqual(await send(deps, "{not json"), { acked: 1, naks: [] });
    assert.equal(letters[0]?.reason, "schema");
    assert.deepEqual((letters[0].body as { payload: string }).payload, "{not json");
  });

  test("handler - a subject naming another node than the event is rejected", async () => {
    const { deps, letters, agent } = setup(["node1", "node3"]);
    assert.deepEqual(await send(deps, event(), "berth.v1.node1.container.started"), { acked: 1, naks: [] });
    assert.equal(letters[0]?.reason, "subject-mismatch");
    assert.equal(agent.calls.length, 0);
  });

  test("handler - an event for a node without a configured agent is dead-lettered", async () => {
    const { deps, letters } = setup(["node1"]);
    await send(deps, event());
    assert.equal(letters[0]?.reason, "unknown-node");
  });

  test("handler - an unreachable or failing agent: the event is recorded, its node's repair requested, the message acked; never a drop", async () => {
    const { deps, agent, letters, repairs } = setup();
    agent.failWith(new ConsulError("agent.service.register", 0, "connect ECONNREFUSED"));
    assert.deepEqual(await send(deps, event()), { acked: 1, naks: [] });
    assert.deepEqual(repairs, [{ node: "node3", reason: "agent unreachable: connect ECONNREFUSED" }]);
    const later = event({ timeNano: 1_700_000_000_000_000_001n, container: { env: { SERVICE_NAME: "svc5" } } });
    assert.deepEqual(await send(deps, later), { acked: 1, naks: [] }, "within RETRY_AFTER_MS the agent is not called");
    assert.equal(agent.calls.length, 1, agent.calls.join(", "));
    assert.equal(repairs.length, 2);
    assert.equal(letters.length, 0);
    const stored = JSON.parse(new TextDecoder().decode((await deps.bucket.get(`node3.${ID_A}`))!.value)) as typeof later;
    assert.equal(stored.data.container.env?.["SERVICE_NAME"], "svc5", "the latest state is in the bucket, for the repair");
  });

  test("handler - a 5xx answer waits like an unreachable agent; other nodes are called meanwhile", async () => {
    const { deps, agent, repairs } = setup(["node3", "node4"]);
    agent.failWith(new ConsulError("agent.service.register", 500, "rpc error"));
    assert.deepEqual(await send(deps, event()), { acked: 1, naks: [] });
    assert.deepEqual(repairs, [{ node: "node3", reason: "agent answered 500: rpc error" }]);
    agent.failWith(undefined);
    assert.deepEqual(await send(deps, event({ node: "node4" })), { acked: 1, naks: [] });
    assert.equal(agent.services_.size, 1, "node4's event applied at once");
  });

  test("handler - an agent's 4xx answer is dead-lettered with the agent's text", async () => {
    const { deps, agent, letters } = setup();
    agent.failWith(new ConsulError("agent.service.register", 400, "Invalid check: TTL must be > 0 for TTL checks"));
    assert.deepEqual(await send(deps, event()), { acked: 1, naks: [] });
    assert.equal(letters[0]?.reason, "agent-rejected");
    assert.match(letters[0].problems[0] ?? "", /400: Invalid check/);
  });

  test("handler - when the dead-letter subject cannot be reached the message is redelivered", async () => {
    const { deps, setDlqDown } = setup();
    setDlqDown(true);
    assert.deepEqual(await send(deps, "garbage"), { acked: 0, naks: [500] });
  });

  test("handler - when the repair request cannot be published the message is redelivered", async () => {
    const { deps, agent } = setup();
    agent.failWith(new ConsulError("agent.service.register", 0, "connect ECONNREFUSED"));
    deps.requestRepair = () => Promise.reject(new Error("nats down"));
    assert.deepEqual(await send(deps, event(), undefined, 2), { acked: 0, naks: [1000] });
  });

  test("handler - retry delays grow and are capped; NATS electing a leader is tried again every second at most", () => {
    assert.deepEqual(
      [1, 2, 3, 10, 100].map((n) => retryDelay(n)),
      [500, 1000, 2000, 30_000, 30_000],
    );
    assert.deepEqual(
      [1, 2, 3, 10, 100].map((n) => retryDelay(n, true)),
      [500, 1000, 1000, 1000, 1000],
    );
  });
});
