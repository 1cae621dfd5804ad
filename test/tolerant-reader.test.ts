// The tolerant reader in a real handler process on a real nats-server: an event a newer emitter or
// a CloudEvents tool extended (dataschema, traceparent, another extension, a field in data and in the container) is
// registered, each addition logged once; and an event of another wire version never reaches it.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { publishDurable } from "../common/nats/index.ts";
import { bytesOf, event } from "./builders.ts";
import { cleanupAll } from "./harness/cleanup.ts";
import { startPipeline, type Pipeline } from "./pipeline/index.ts";

const PREFIX = "tolerant";

describe("tolerant reader (real handler)", () => {
  let p: Pipeline;

  before(async () => {
    p = await startPipeline({ prefix: PREFIX, nodes: [{ name: "t1" }], bus: true });
  });
  after(cleanupAll);

  test("tolerant reader - an event with dataschema, traceparent, another extension and new fields in data and the container is registered", async (t) => {
    if (!p.ready(t)) return;
    const plain = event({ node: "t1", hostIp: "127.0.0.1", container: { name: "extended" } });
    const extended = {
      ...plain,
      dataschema: "https://berth.dev/schemas/container-event.v1.json",
      traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      partitionkey: "t1",
      data: { ...plain.data, emitter: { version: "2.0.0" }, container: { ...plain.data.container, restartCount: 2 } },
    };
    await publishDurable(p.bus, `${PREFIX}.v1.t1.container.started`, bytesOf(extended), plain.id);
    const [service] = await p.applied(plain); // exactly what the plain event maps to, field by field
    assert.equal(service?.ID, `t1:extended:${plain.subject.slice(0, 12)}:8080`);
    // traceparent is read (the trace's parent), so it is not "unknown"; the others are.
    const said = p.handlers[0]!.logs.filter((l) => l.msg === "ignoring a field berth does not know");
    assert.deepEqual(said.map((l) => `${String(l["where"])} ${String(l["name"])}`).sort(), [
      "event dataschema",
      "event partitionkey",
      "event.data emitter",
      "event.data.container restartCount",
    ]);
    assert.deepEqual(await p.deadLetters(), []);
  });

  test("tolerant reader - an event of another wire version (v2 subject) is not taken by the v1 stream: no v1 handler meets it", async (t) => {
    if (!p.ready(t)) return;
    const v2 = { ...event({ node: "t1" }), specversion: "1.0", type: "io.berth.v2.container.started" };
    // No stream holds the subject: JetStream has no one to answer the publish (the v1 stream's subjects are `<prefix>.v1.*.*.*`).
    const causes = (err: unknown): string => (err instanceof Error ? `${err.message} ← ${causes(err.cause)}` : "");
    await assert.rejects(publishDurable(p.bus, `${PREFIX}.v2.t1.container.started`, bytesOf(v2), "v2-1"), (err: Error) =>
      /no responders: 'tolerant\.v2\./.test(causes(err)),
    );
    assert.deepEqual(await p.deadLetters(), []);
  });
});
