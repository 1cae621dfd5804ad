// The tolerant reader beyond events: the state bucket's entries (a newer writer's fields ignored, a
// newer format left to a handler that reads it), repair requests and dead letters; and how the
// ignored fields are counted and logged.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createLogger } from "../common/log.ts";
import { createRegistry } from "../common/metrics.ts";
import { handleMessage } from "../handler/consume.ts";
import { handlerMetrics } from "../handler/metrics.ts";
import { MAX_UNKNOWN_NAMES, OTHER_NAME, unknownFieldsNoter } from "../handler/unknown-fields.ts";
import {
  NewerVersion,
  STATE_VERSION_ATTRIBUTE,
  parseContainerEvent,
  parseDeadLetter,
  parseRepairRequest,
  readStateEntry,
  subjectFor,
  toDeadLetter,
} from "../schemas/index.ts";
import { bytesOf, event, handlerDeps, ID_A, memoryAgent, memoryBucket, message } from "./builders.ts";

const KEY = `node3.${ID_A}`;

/** A handler whose bucket holds `stored` as the container's state; `send` hands it one message. */
async function withStoredState(stored: object) {
  const agent = memoryAgent();
  const bucket = memoryBucket();
  await bucket.compareAndSet(KEY, bytesOf(stored), 0);
  const { deps, letters } = handlerDeps(agent, { bucket });
  const send = async (e: ReturnType<typeof event>) => {
    const { msg, settled } = message(subjectFor("berth", e), bytesOf(e));
    await handleMessage(deps, msg);
    return settled;
  };
  return { agent, bucket, letters, send };
}

const stop = () => event({ type: "io.berth.container.stopped", timeNano: 1_700_000_000_000_000_001n });

describe("tolerant state", () => {
  test("state - an entry with a newer writer's extra fields is read: a stop is applied over it", async () => {
    const h = await withStoredState({ ...event(), traceparent: "x", data: { ...event().data, emitter: { v: 2 } } });
    assert.deepEqual(await h.send(stop()), { acked: 1, naks: [] });
    assert.deepEqual(h.letters, []);
    assert.equal(readStateEntry(h.bucket.entries.get(KEY)!.value, parseContainerEvent).type, "io.berth.container.stopped");
  });

  test("state - an entry in a newer format is left to a handler that reads it: delivered again, never dead-lettered", async () => {
    const h = await withStoredState({ ...event(), [STATE_VERSION_ATTRIBUTE]: 2 });
    const settled = await h.send(stop());
    assert.deepEqual([settled.acked, settled.naks.length, h.letters.length], [0, 1, 0]);
    assert.equal(h.agent.calls.length, 0);
    assert.throws(() => readStateEntry(bytesOf({ [STATE_VERSION_ATTRIBUTE]: 7 }), parseContainerEvent), NewerVersion);
  });

  test("state - this format's entries carry no version (berth before it reads them: upgrade and rollback); version 1 is read too", async () => {
    const h = await withStoredState(event());
    await h.send(stop());
    assert.equal(STATE_VERSION_ATTRIBUTE in (JSON.parse(new TextDecoder().decode(h.bucket.entries.get(KEY)!.value)) as object), false);
    assert.deepEqual(readStateEntry(bytesOf({ ...event(), [STATE_VERSION_ATTRIBUTE]: 1 }), parseContainerEvent), event());
    assert.throws(() => readStateEntry(bytesOf({ ...event(), [STATE_VERSION_ATTRIBUTE]: "2" }), parseContainerEvent), /format number/);
  });

  test("state - repair requests and dead letters of a newer writer are read, their extra fields taken out", () => {
    const request = { node: "node3", reason: "agent unreachable", since: "2026-12-07T00:00:00Z", at: "2026-12-07T00:00:01Z" };
    assert.deepEqual(parseRepairRequest({ ...request, attempts: 3, by: { worker: 1 } }), request);
    const letter = toDeadLetter("schema", ["/ bad"], { subject: "berth.v1.node3.container.started", data: bytesOf("{}") }, new Date(0));
    assert.deepEqual(parseDeadLetter({ ...letter, handlerVersion: "2.0.0" }), letter);
  });

  test("unknown fields - counted by where and name, logged once per name at info; past 100 names counted as other", async () => {
    const registry = createRegistry();
    const lines: { level: string; name: string }[] = [];
    const log = createLogger("handler", "info", {}, "json", {
      write: (line: string) => lines.push(JSON.parse(line) as { level: string; name: string }),
    });
    const note = unknownFieldsNoter(log, handlerMetrics(registry));
    note("event", "traceparent");
    note("event", "traceparent");
    note("event.data.container", "restartCount");
    for (let i = 0; i < MAX_UNKNOWN_NAMES + 20; i++) note("event", `ext${i}`);
    const text = await registry.render();
    assert.match(text, /^berth_unknown_fields_total\{where="event",name="traceparent"\} 2$/m);
    assert.match(text, /^berth_unknown_fields_total\{where="event.data.container",name="restartCount"\} 1$/m);
    assert.match(text, new RegExp(`^berth_unknown_fields_total\\{where="event",name="${OTHER_NAME}"\\} 22$`, "m"));
    const series = text.split("\n").filter((l) => l.startsWith("berth_unknown_fields_total{"));
    assert.equal(series.length, MAX_UNKNOWN_NAMES + 1);
    assert.equal(lines.filter((l) => l.name === "traceparent").length, 1);
    assert.deepEqual(new Set(lines.map((l) => l.level)), new Set(["info"]));
    assert.equal(lines.length, MAX_UNKNOWN_NAMES + 1); // each name once, and once that more are counted as other
  });
});
