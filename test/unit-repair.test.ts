// Per-node isolation (P7) in the handler's logic: a node whose agent could not take its changes is
// repaired from the state bucket by a repair request, once its agent answers.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConsulError } from "../consul/client.ts";
import { handleMessage } from "../handler/consume.ts";
import { RETRY_AFTER_MS } from "../handler/node-gate.ts";
import { repairHandler } from "../handler/repair-requests.ts";
import { repairSubject, subjectFor, type ContainerEvent } from "../schemas/index.ts";
import { bytesOf, event, handlerDeps, memoryAgent, message } from "./builders.ts";

const ID = (c: string) => c.repeat(64);
const started = (c: string, t: bigint, node = "node3") =>
  event({ node, timeNano: t, container: { id: ID(c), name: `svc-${c}`, env: { SERVICE_NAME: `svc-${c}` } } });
const stopped = (c: string, t: bigint) =>
  event({ type: "io.berth.container.stopped", timeNano: t, container: { id: ID(c), name: `svc-${c}`, exitCode: 0 } });

function setup() {
  const agent = memoryAgent();
  const { deps, letters, repairs } = handlerDeps(agent);
  const send = async (e: ContainerEvent) => {
    const { msg, settled } = message(subjectFor("berth", e), bytesOf(e));
    await handleMessage(deps, msg);
    return settled;
  };
  const repair = repairHandler(deps);
  const requestFor = async (node: string, delivery = 1) => {
    const { msg, settled } = message(repairSubject("berth", node), bytesOf({}), delivery);
    await repair(msg);
    return settled;
  };
  const names = () => [...agent.services_.values()].map((s) => s.Name).sort();
  return { agent, deps, letters, repairs, send, requestFor, names };
}

describe("repair", () => {
  test("repair - while the agent is down the node's changes wait in the bucket; once it answers one repair brings the latest of each", async () => {
    const { agent, deps, repairs, send, requestFor, names } = setup();
    await send(started("a", 1n));
    agent.failWith(new ConsulError("agent.service.register", 0, "connect ECONNREFUSED"));
    for (const e of [started("b", 2n), stopped("a", 3n), started("c", 4n), stopped("c", 5n), started("d", 6n)]) {
      assert.deepEqual(await send(e), { acked: 1, naks: [] });
    }
    assert.ok(repairs.length >= 5 && repairs.every((r) => r.node === "node3"));
    assert.deepEqual(await requestFor("node3"), { acked: 0, naks: [RETRY_AFTER_MS] }, "the agent failed a moment ago: asked again later");
    agent.failWith(undefined);
    deps.gate.succeeded("node3"); // as if RETRY_AFTER_MS had passed
    assert.deepEqual(await requestFor("node3", 2), { acked: 1, naks: [] });
    assert.deepEqual(names(), ["svc-b", "svc-d"], "a stopped, b and d running, c started and stopped unseen by the agent");
  });

  test("repair - a repair that finds the agent still away hands the request back; nothing is lost", async () => {
    const { agent, deps, send, requestFor, names } = setup();
    agent.failWith(new ConsulError("agent.services", 503, "No cluster leader"));
    await send(started("a", 1n));
    deps.gate.succeeded("node3");
    agent.failWith(new ConsulError("agent.services", 0, "connect ECONNREFUSED"));
    assert.deepEqual(await requestFor("node3"), { acked: 0, naks: [RETRY_AFTER_MS] });
    assert.deepEqual(names(), []);
    agent.failWith(undefined);
    deps.gate.succeeded("node3");
    assert.deepEqual(await requestFor("node3", 2), { acked: 1, naks: [] });
    assert.deepEqual(names(), ["svc-a"], "the change that waited is applied");
  });

  test("repair - a container the agent refuses for good is dead-lettered; the node's other containers are repaired and the request is done", async () => {
    const { agent, deps, letters, send, requestFor, names } = setup();
    agent.failWith(new ConsulError("agent.service.register", 0, "connect ECONNREFUSED"));
    await send(started("a", 1n));
    await send(started("b", 2n));
    agent.failWith(undefined);
    deps.gate.succeeded("node3");
    const register = agent.register.bind(agent);
    agent.register = (service) =>
      service.Name === "svc-a" ? Promise.reject(new ConsulError("agent.service.register", 400, "Invalid check")) : register(service);
    assert.deepEqual(await requestFor("node3"), { acked: 1, naks: [] });
    assert.deepEqual(names(), ["svc-b"]);
    assert.deepEqual(
      letters.map((l) => l.reason),
      ["agent-rejected"],
    );
    assert.match(letters[0]!.problems[0] ?? "", /400: Invalid check/);
  });

  test("repair - one node's repair at a time per handler: a second request for it meanwhile comes back later", async () => {
    const { agent, deps, send, requestFor } = setup();
    agent.failWith(new ConsulError("agent.service.register", 0, "connect ECONNREFUSED"));
    await send(started("a", 1n));
    agent.failWith(undefined);
    deps.gate.succeeded("node3");
    let release = () => {};
    agent.gateWith((op) => (op.startsWith("register") ? new Promise<void>((r) => (release = r)) : Promise.resolve()));
    const first = requestFor("node3");
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(await requestFor("node3"), { acked: 0, naks: [RETRY_AFTER_MS] });
    agent.gateWith(undefined);
    release();
    assert.deepEqual(await first, { acked: 1, naks: [] });
  });
});
