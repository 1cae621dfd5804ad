// The tolerant reader (schemas/open.ts): each kind of addition a newer emitter or a CloudEvents tool
// makes is applied, and none of it stored; each thing berth forbids is still refused.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { handleMessage } from "../handler/consume.ts";
import { toNodeSnapshot, type ContainerEvent } from "../schemas/index.ts";
import { bytesOf, event, handlerDeps, ID_A, memoryAgent, memoryBucket, message } from "./builders.ts";

type Json = Record<string, unknown>;
const SERVICE = `node3:svc4:${ID_A.slice(0, 12)}:8080`;
const STARTED = "berth.v1.node3.container.started";

function setup() {
  const agent = memoryAgent();
  const bucket = memoryBucket();
  const unknown: string[] = [];
  const asked: string[] = [];
  const { deps, letters } = handlerDeps(agent, {
    bucket,
    agentFor: (node) => (asked.push(node), node === "node3" ? agent : undefined),
    onUnknown: (where, name) => void unknown.push(`${where} ${name}`),
  });
  const send = async (value: unknown, subject = STARTED) => {
    const { msg, settled } = message(subject, bytesOf(value));
    await handleMessage(deps, msg);
    return settled;
  };
  const stored = (key: string) => JSON.parse(new TextDecoder().decode(bucket.entries.get(key)!.value)) as Json;
  return { agent, bucket, letters, unknown, asked, send, stored };
}

/** A started event as JSON, changed by `change`. */
function changed(change: (e: ContainerEvent) => void): ContainerEvent {
  const e = event();
  change(e);
  return e;
}

const TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/** Each kind of addition, and what the handler must say it ignored (where, name). */
const ADDITIONS: { what: string; change: (e: ContainerEvent) => void; ignored: string[] }[] = [
  {
    what: "an optional CloudEvents attribute (dataschema)",
    change: (e) => Object.assign(e, { dataschema: "https://berth.dev/schemas/container-event.v1.json" }),
    ignored: ["event dataschema"],
  },
  {
    // Known since tracing (common/tracing/): read, so not counted as unknown; still not stored.
    what: "the distributed-tracing extension (traceparent, tracestate)",
    change: (e) => Object.assign(e, { traceparent: TRACEPARENT, tracestate: "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7" }),
    ignored: [],
  },
  {
    what: "other extension attributes (a string, a number, a boolean, a null)",
    change: (e) => Object.assign(e, { partitionkey: "node3", sequence: 42, sampled: true, knativearrivaltime: null }),
    ignored: ["event partitionkey", "event sequence", "event sampled", "event knativearrivaltime"],
  },
  {
    what: "a new field in data",
    change: (e) => Object.assign(e.data, { emitter: { version: "2.0.0", features: ["trace"] } }),
    ignored: ["event.data emitter"],
  },
  {
    what: "a new field in the container",
    change: (e) => Object.assign(e.data.container, { restartCount: 3, platform: { os: "linux" } }),
    ignored: ["event.data.container restartCount", "event.data.container platform"],
  },
  {
    what: "a new field in the node, a port, a network",
    change: (e) => {
      Object.assign(e.data.node, { zone: "eu-1" });
      Object.assign(e.data.container.ports![0]!, { name: "http" });
      e.data.container.networks = { bridge: Object.assign({ ipv4: "172.17.0.2" }, { mac: "02:42:ac:11:00:02" }) };
    },
    ignored: ["event.data.node zone", "event.data.container.ports name", "event.data.container.networks.* mac"],
  },
  {
    what: "an agent URL in an attribute and in the container: ignored, the agent is the configured one",
    change: (e) => {
      Object.assign(e, { agenturl: "http://203.0.113.9:8500" });
      Object.assign(e.data.container, { consulAgent: "http://203.0.113.9:8500" });
    },
    ignored: ["event agenturl", "event.data.container consulAgent"],
  },
];

describe("tolerant reader", () => {
  for (const { what, change, ignored } of ADDITIONS) {
    test(`tolerant reader - applied: ${what}; not stored`, async () => {
      const h = setup();
      const withNetworks = changed(change).data.container.networks;
      assert.deepEqual(await h.send(changed(change)), { acked: 1, naks: [] });
      assert.deepEqual(h.letters, []);
      assert.deepEqual([...h.agent.services_.keys()], [SERVICE]);
      assert.deepEqual(h.asked, ["node3"]);
      assert.deepEqual(h.unknown.sort(), ignored.sort());
      // Stored as berth reads it: exactly the event without the additions (networks: what berth knows of them).
      const plain = event();
      if (withNetworks) plain.data.container.networks = { bridge: { ipv4: "172.17.0.2" } };
      assert.deepEqual(h.stored(`node3.${ID_A}`), plain);
    });
  }

  test("tolerant reader - applied: a node snapshot with attributes and fields it does not know; not stored", async () => {
    const h = setup();
    await h.send(event());
    const snapshot = toNodeSnapshot({ name: "node3" }, 1_700_000_000_000_000_001n, []);
    Object.assign(snapshot, { dataschema: "https://berth.dev/schemas/node-snapshot.v1.json", traceparent: TRACEPARENT });
    Object.assign(snapshot.data, { emitter: { version: "2.0.0" } });
    assert.deepEqual(await h.send(snapshot, "berth.v1.node3.node.snapshot"), { acked: 1, naks: [] });
    assert.deepEqual([h.letters, [...h.agent.services_.keys()]], [[], []]); // the container it does not list is gone
    assert.deepEqual(h.unknown.sort(), ["snapshot dataschema", "snapshot traceparent", "snapshot.data emitter"]);
    assert.deepEqual(h.stored("node3"), toNodeSnapshot({ name: "node3" }, 1_700_000_000_000_000_001n, []));
  });

  /** What berth forbids, whatever else the message adds: dead-lettered with the reason, nothing registered. */
  const REFUSED: { what: string; change: (e: ContainerEvent) => void; subject?: string; reason: string; problem: RegExp }[] = [
    {
      what: "an env variable that is not SERVICE_*, beside a new field",
      change: (e) => Object.assign(e.data.container, { env: { SERVICE_NAME: "svc4", DB_PASSWORD: "hunter2" }, restartCount: 1 }),
      reason: "schema",
      problem: /\/data\/container\/env must match pattern "\^SERVICE_"/,
    },
    {
      what: "a message over 1 MiB, made of a new field",
      change: (e) => Object.assign(e.data, { padding: "x".repeat(1024 * 1024) }),
      reason: "schema",
      problem: /over 1048576/,
    },
    {
      what: "data naming another node than the subject",
      change: (e) => Object.assign(e, { dataschema: "x" }),
      subject: "berth.v1.node9.container.started",
      reason: "subject-mismatch",
      problem: /does not match node node3/,
    },
    {
      what: "a source naming another node than data",
      change: (e) => Object.assign(e, { source: "berth://node9", traceparent: TRACEPARENT }),
      reason: "schema",
      problem: /\/source must name data.node.name/,
    },
    {
      what: "an event of a node without a configured agent, naming an agent URL",
      change: (e) =>
        Object.assign(
          e,
          { agenturl: "http://203.0.113.9:8500", source: "berth://node9" },
          { data: { ...e.data, node: { name: "node9" } } },
        ),
      subject: "berth.v1.node9.container.started",
      reason: "unknown-node",
      problem: /no Consul agent configured for node node9/,
    },
    {
      what: "an attribute name outside CloudEvents' grammar (upper case, a dash)",
      change: (e) => Object.assign(e, { "Trace-Parent": TRACEPARENT }),
      reason: "schema",
      problem: /property name must be valid/,
    },
    {
      what: "an attribute name over 64 characters",
      change: (e) => Object.assign(e, { ["x".repeat(65)]: "1" }),
      reason: "schema",
      problem: /property name must be valid/,
    },
    {
      what: "an attribute holding an object (no CloudEvents attribute does)",
      change: (e) => Object.assign(e, { trace: { id: "1" } }),
      reason: "schema",
      problem: /\/trace must be string/,
    },
    {
      what: "an attribute over 2048 characters",
      change: (e) => Object.assign(e, { tracestate: "a".repeat(2049) }),
      reason: "schema",
      problem: /\/tracestate must NOT have more than 2048 characters/,
    },
    {
      what: "more than 40 attributes",
      change: (e) => Object.assign(e, Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`ext${i}`, i]))),
      reason: "schema",
      problem: /\/ must NOT have more than 40 properties/,
    },
    {
      what: "more than 64 fields in the container",
      change: (e) => Object.assign(e.data.container, Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`field${i}`, i]))),
      reason: "schema",
      problem: /\/data\/container must NOT have more than 64 properties/,
    },
    {
      what: "a field name over 64 characters in the container",
      change: (e) => Object.assign(e.data.container, { ["f".repeat(65)]: 1 }),
      reason: "schema",
      problem: /\/data\/container property name must be valid/,
    },
    {
      what: "a known field out of bounds beside a new one",
      change: (e) => Object.assign(e.data.container.ports![0]!, { hostPort: 70000, name: "http" }),
      reason: "schema",
      problem: /\/data\/container\/ports\/0\/hostPort must be <= 65535/,
    },
  ];

  for (const { what, change, subject, reason, problem } of REFUSED) {
    test(`tolerant reader - still refused: ${what}`, async () => {
      const h = setup();
      assert.deepEqual(await h.send(changed(change), subject), { acked: 1, naks: [] });
      assert.deepEqual(
        h.letters.map((l) => l.reason),
        [reason],
      );
      assert.match(h.letters[0]!.problems.join("\n"), problem);
      assert.deepEqual([h.agent.services_.size, h.bucket.entries.size], [0, 0]);
    });
  }
});
