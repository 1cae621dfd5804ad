// No forged routing (DESIGN.md §5), through the handler's real configuration path: the agent a
// handler calls comes only from its configuration, never from URLs the event carries (a trap server
// named in every field gets no request); an unknown node (map mode) is dead-lettered without an
// agent call; a subject naming another node than its data is rejected (subject-mismatch); a valid
// name the template makes no URL of is dead-lettered, not retried.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, test } from "node:test";
import { agentPool } from "../consul/agent-pool.ts";
import { agentDirectory, loadHandlerConfig } from "../handler/config.ts";
import { handleMessage } from "../handler/consume.ts";
import { isValidNodeName, subjectFor, type ContainerEvent } from "../schemas/index.ts";
import { bytesOf, event, handlerDeps, ID_B, memoryAgent, message } from "./builders.ts";
import { startConsulDouble, type ConsulDouble } from "./consul-double/index.ts";
import { cleanupAll, registerCleanup } from "./harness/cleanup.ts";

/** A small HTTP server that counts every request: the place a forged event would like handlers to call. */
async function startTrap() {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    res.end("{}");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, hits: () => hits, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe("security: routing", () => {
  after(cleanupAll);

  /** A handler's real configuration path (env → directory → pool) in front of in-memory NATS parts. */
  function handlerWith(env: Record<string, string>) {
    const config = loadHandlerConfig(env);
    const pool = agentPool(agentDirectory(config), config.CONSUL_HTTP_TOKEN, undefined);
    registerCleanup("agent pool", () => pool.closeAll());
    // The pool's agents, by the handler's own configuration: handlerDeps' agent is never called.
    const { deps, letters } = handlerDeps(memoryAgent(), { agentFor: pool.agentFor });
    const send = async (e: ContainerEvent, subject = subjectFor("berth", e)) => {
      const { msg, settled } = message(subject, bytesOf(e));
      await handleMessage(deps, msg);
      return settled;
    };
    return { send, letters };
  }

  async function double(node: string): Promise<ConsulDouble> {
    const agent = await startConsulDouble({ node });
    registerCleanup(`${node} agent double`, () => agent.close());
    return agent;
  }

  test("routing - the agent called comes from configuration, never from URLs the event carries", async () => {
    const trap = await startTrap();
    registerCleanup("trap", trap.close);
    const agent = await double("node3");
    const { send, letters } = handlerWith({ BERTH_CONSUL_AGENTS: `node3=${agent.url}` });
    // Every free-text field an emitter (or a forger) controls points at the trap.
    const forged = event({
      container: {
        image: `${trap.url}/img`,
        hostname: trap.url,
        env: { SERVICE_NAME: "svc4", SERVICE_CONSUL_HTTP_ADDR: trap.url, SERVICE_AGENT: trap.url },
        labels: { SERVICE_CONSUL_URL: trap.url, SERVICE_ADDRESS: trap.url.replace("http://", "") },
        networks: { [trap.url]: { ipv4: "127.0.0.1" } },
      },
    });
    assert.deepEqual(await send(forged), { acked: 1, naks: [] });
    assert.deepEqual(letters, []);
    const owned = Object.values(agent.services()).filter((s) => s.Meta["berth_container"] === forged.subject);
    assert.equal(owned.length, 1, "the configured agent got the registration");
    assert.equal(trap.hits(), 0, "no request went to an address named in the event");
  });

  test("routing - map mode: an event of a node the map does not list is dead-lettered as unknown-node, no agent is called", async () => {
    const agent = await double("node3");
    const { send, letters } = handlerWith({ BERTH_CONSUL_AGENTS: `node3=${agent.url}` });
    const calls = agent.requests.length;
    assert.deepEqual(await send(event({ node: "node4" })), { acked: 1, naks: [] });
    assert.deepEqual(
      letters.map((l) => l.reason),
      ["unknown-node"],
    );
    assert.match(letters[0]!.problems.join(), /node4/);
    assert.equal(agent.requests.length, calls);
    // Positive control: the listed node is applied by the same handler.
    assert.deepEqual(await send(event({ node: "node3" })), { acked: 1, naks: [] });
    assert.equal(letters.length, 1);
    assert.ok(agent.requests.length > calls);
  });

  test("routing - a subject naming another node (or kind) than the data is rejected as subject-mismatch", async () => {
    const node1 = await double("node1");
    const node3 = await double("node3");
    const { send, letters } = handlerWith({ BERTH_CONSUL_AGENTS: `node1=${node1.url},node3=${node3.url}` });
    const before = node1.requests.length + node3.requests.length;
    // Both nodes have agents, so only the subject check stands between the forger and node1's agent.
    assert.deepEqual(await send(event({ node: "node1" }), "berth.v1.node3.container.started"), { acked: 1, naks: [] });
    assert.deepEqual(await send(event({ node: "node3" }), "berth.v1.node1.container.started"), { acked: 1, naks: [] });
    assert.deepEqual(await send(event({ node: "node3", container: { id: ID_B } }), "berth.v1.node3.container.stopped"), {
      acked: 1,
      naks: [],
    });
    assert.deepEqual(
      letters.map((l) => l.reason),
      ["subject-mismatch", "subject-mismatch", "subject-mismatch"],
    );
    assert.equal(node1.requests.length + node3.requests.length, before, "no agent was called");
  });

  test('routing - template mode: a valid name that gives no URL ("08") is dead-lettered as unknown-node, not retried forever', async () => {
    const { send, letters } = handlerWith({ BERTH_CONSUL_AGENT_TEMPLATE: "http://{node}:8500" });
    for (const node of ["08", "99999999999", "0xfffffffff"]) {
      assert.ok(isValidNodeName(node), node);
      assert.deepEqual(await send(event({ node })), { acked: 1, naks: [] }, node);
    }
    assert.deepEqual(
      letters.map((l) => l.reason),
      ["unknown-node", "unknown-node", "unknown-node"],
    );
  });
});
