// No forged routing (DESIGN.md §5): the agent a handler calls comes only from its configuration;
// an unknown node (map mode) is dead-lettered; a subject naming another node than its data is
// rejected; node names are validated wherever they enter; no node name, however hostile, changes
// the scheme, credentials, port, path, query or fragment BERTH_CONSUL_AGENT_TEMPLATE gives.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, test } from "node:test";
import fc from "fast-check";
import { ConfigError } from "../common/config.ts";
import { createLogger } from "../common/log.ts";
import { loadEmitterConfig } from "../emitter/config.ts";
import { agentPool } from "../handler/agent-pool.ts";
import { agentEntryFor, parseAgentMap, type AgentDirectory } from "../handler/agents.ts";
import { agentDirectory, loadHandlerConfig } from "../handler/config.ts";
import { handleMessage, type HandlerDeps } from "../handler/consume.ts";
import type { DeadLetterReason } from "../handler/dead-letter.ts";
import { SchemaError, decodeBerthEvent, isValidNodeName, parseSubject, subjectFor, type ContainerEvent } from "../schemas/index.ts";
import { bytesOf, event, ID_B, isolation, memoryBucket, message } from "./builders.ts";
import { startConsulDouble, type ConsulDouble } from "./consul-double/index.ts";
import { cleanupAll, registerCleanup } from "./harness/cleanup.ts";

/** Names an attacker would try: host, port, path, userinfo, query and fragment breakers, encodings, unicode, blanks, length. */
const HOSTILE_NAMES = [
  "evil.com/",
  "evil.com",
  "a@b",
  "user:pw@evil",
  "..",
  ".",
  "%2e",
  "%2e%2e%2f",
  "x:1",
  "node1:9999",
  "node1#",
  "node1?x",
  "node1?x=1#y",
  "node1/../admin",
  "node1\\evil",
  "[::1]",
  "node1\n",
  "node1\r\nHost: evil",
  "node1\u0000",
  "nodé",
  "nоde1" /* Cyrillic о */,
  "node1\u202e",
  "ｎｏｄｅ１",
  "a b",
  " node1",
  "node1 ",
  "",
  "-node1",
  "_node1",
  "n".repeat(64),
  "n".repeat(10_000),
  "node1$&",
  "{node}",
  "$`",
];

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
    const letters: { reason: DeadLetterReason; problems: string[] }[] = [];
    const deps: HandlerDeps = {
      prefix: "berth",
      ...isolation(),
      bucket: memoryBucket(),
      agentFor: pool.agentFor,
      deadLetter: (_msg, reason, problems) => {
        letters.push({ reason, problems });
        return Promise.resolve();
      },
      log: createLogger("handler", "silent"),
    };
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

  test("routing - hostile node names are refused wherever a node name enters", () => {
    for (const name of HOSTILE_NAMES) {
      const what = JSON.stringify(name.slice(0, 40));
      assert.equal(isValidNodeName(name), false, what);
      // on the wire: the schema refuses the event (the handler dead-letters it as schema)
      const forged = event({ node: "node1" });
      forged.data.node.name = name;
      forged.source = `berth://${name}`;
      assert.throws(() => decodeBerthEvent(bytesOf(forged)), SchemaError, what);
      // in a subject
      assert.equal(parseSubject("berth", `berth.v1.${name}.container.started`), undefined, what);
      // in configuration: the emitter's node and the handler's map
      if (name !== "") assert.throws(() => loadEmitterConfig({ BERTH_NODE: name }), ConfigError, what); // empty: unset
      // (the map trims blanks around an entry, as around every list item: "node1\n" is node1)
      const keys = [...parseAgentMap(`${name}=http://127.0.0.1:8500`).agents.keys()];
      assert.ok(
        keys.every((k) => isValidNodeName(k) && k === name.trim()),
        `${what}: ${JSON.stringify(keys)}`,
      );
      // in the agent directory
      for (const template of ["http://{node}:8500", "https://{node}.consul.internal:8501/base"]) {
        assert.equal(agentEntryFor({ kind: "template", template }, name)?.url, undefined, what);
      }
    }
  });

  test("routing - hostile templates are refused: {node} only in the host, no credentials, query or fragment", () => {
    for (const template of [
      "http://agent:8500/{node}",
      "http://agent:{node}",
      "{node}://agent",
      "http://{node}@agent:8500",
      "http://agent:8500/?n={node}",
      "http://agent:8500/#{node}",
    ]) {
      assert.throws(() => loadHandlerConfig({ BERTH_CONSUL_AGENT_TEMPLATE: template }), ConfigError, template);
    }
    assert.doesNotThrow(() => loadHandlerConfig({ BERTH_CONSUL_AGENT_TEMPLATE: "https://{node}.consul.internal:8501/base" }));
  });

  // Property: whatever the name, the URL is undefined or the template's URL with only the host changed.
  const TEMPLATES = ["http://{node}:8500", "https://{node}.consul.internal:8501/base", "http://agent-{node}:8500"];
  /**
   * WHATWG URL reads an all-digit or 0x… host as an IPv4 number: the name still chooses only the
   * host (an address, or no URL at all: then the node has no agent).
   */
  const NUMERIC_HOST = /^(0x[0-9a-f]*|[0-9]+)$/i;

  function checkOnlyHostChanges(template: string, name: string): boolean {
    const url = agentEntryFor({ kind: "template", template } satisfies AgentDirectory, name)?.url;
    if (url === undefined) return false;
    assert.ok(isValidNodeName(name), `accepted an invalid name ${JSON.stringify(name)}`);
    const got = new URL(url);
    const want = new URL(template.replace("{node}", "placeholder"));
    for (const part of ["protocol", "username", "password", "port", "pathname", "search", "hash"] as const) {
      assert.equal(got[part], want[part], `${part} of ${url} (name ${JSON.stringify(name)})`);
    }
    const host = want.hostname.replace("placeholder", name.toLowerCase());
    if (template.startsWith("http://{node}:") && NUMERIC_HOST.test(name)) assert.match(got.hostname, /^\d+\.\d+\.\d+\.\d+$/);
    else assert.equal(got.hostname, host, `host of ${url}`);
    return true;
  }

  const hostileName = fc.oneof(
    fc.string({ unit: "binary", maxLength: 80 }),
    fc.string({ unit: "grapheme", maxLength: 80 }),
    fc
      .array(
        fc.constantFrom(
          ...HOSTILE_NAMES.filter((n) => n.length < 100),
          "node1",
          "a",
          "-",
          "_",
          ".",
          "/",
          ":",
          "@",
          "#",
          "?",
          "%",
          "\\",
          " ",
        ),
        { maxLength: 6 },
      )
      .map((p) => p.join("")),
    fc
      .stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/)
      .chain((valid) =>
        fc
          .tuple(fc.constant(valid), fc.string({ unit: "binary", maxLength: 4 }), fc.nat(64))
          .map(([v, junk, at]) => v.slice(0, at) + junk + v.slice(at)),
      ),
  );

  test("routing - property: no generated name changes anything but the host of the template's URL", () => {
    let accepted = 0;
    fc.assert(
      fc.property(hostileName, fc.constantFrom(...TEMPLATES), (name, template) => {
        if (checkOnlyHostChanges(template, name)) accepted++;
      }),
      { numRuns: 5000 },
    );
    // Some junk is harmless (a valid name with nothing inserted): the property was not vacuous.
    assert.ok(accepted > 0, "some generated names were accepted");
  });

  test("routing - property: every valid node name (but numbers that are no IPv4 address) is accepted and becomes exactly the host", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/), fc.constantFrom(...TEMPLATES), (name, template) => {
        const numeric = template.startsWith("http://{node}:") && NUMERIC_HOST.test(name);
        assert.ok(checkOnlyHostChanges(template, name) || numeric, JSON.stringify(name));
      }),
      { numRuns: 2000 },
    );
  });
});
