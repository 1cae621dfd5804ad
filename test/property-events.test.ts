// Property-based: over 10,000 generated messages — valid, near-valid and hostile — through the
// handler's decoding, validation, routing and mapping (handleMessage with a memory bucket and
// agent). Every message is settled exactly once: applied and acked, or dead-lettered with its
// reason and acked; never a crash, a nak, a polluted prototype or unbounded memory.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import fc from "fast-check";
import { MAX_EVENT_BYTES, subjectFor } from "../schemas/index.ts";
import { bytesOf, event } from "./builders.ts";
import { briefly, nearValid, recordingHandler, validEvent } from "./event-arbitraries.ts";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const heapAfterGc = () => (gc(), gc(), process.memoryUsage().heapUsed);
const SUBJECT = "berth.v1.node1.container.started";
/** A dead letter must always fit in a NATS message, however big or strange the input was. */
const MAX_LETTER_BYTES = 256 * 1024;
let total = 0;
const heapBefore = heapAfterGc();

type Outcome = Awaited<ReturnType<ReturnType<typeof recordingHandler>["send"]>>;
function assertDeadLettered(out: Outcome, reason: string, what: string) {
  assert.equal(out.acked, 1, `${what}: acked once`);
  assert.deepEqual(out.naks, [], `${what}: never retried`);
  assert.equal(out.letters, 1, `${what}: one dead letter`);
  assert.equal(out.letter?.reason, reason, `${what}: ${JSON.stringify(out.letter?.problems.slice(0, 3))}`);
  assert.ok(out.letter.problems.length > 0 && out.letter.problems.every((p) => p.length > 0), `${what}: with its problems`);
  assert.ok(out.letter.bytes <= MAX_LETTER_BYTES, `${what}: dead letter of ${out.letter.bytes} bytes`);
}

describe("property", () => {
  after(() => {
    assert.ok(total >= 10_000, `only ${total} generated messages`);
    assert.equal(({} as Record<string, unknown>)["polluted"], undefined, "Object.prototype was polluted");
    const grownMiB = (heapAfterGc() - heapBefore) / 2 ** 20;
    assert.ok(grownMiB < 64, `heap grew by ${grownMiB.toFixed(1)} MiB over ${total} messages`);
  });

  test("property - valid events are applied and acked, never dead-lettered", async () => {
    const h = recordingHandler();
    await fc.assert(
      fc.asyncProperty(validEvent, async (e) => {
        total++;
        const out = await h.send(subjectFor("berth", e), bytesOf(e));
        assert.deepEqual([out.acked, out.naks, out.letters], [1, [], 0], JSON.stringify(out.letter));
      }),
      briefly(2500),
    );
  });

  test("property - a single mutation of a valid event is dead-lettered with the reason it deserves, or applied when it only adds a field", async () => {
    const h = recordingHandler();
    await fc.assert(
      fc.asyncProperty(nearValid, async (m) => {
        total++;
        const out = await h.send(m.subject, m.bytes);
        if (m.expect === "applied") assert.deepEqual([out.acked, out.naks, out.letters], [1, [], 0], m.what);
        else if (m.expect !== undefined) assertDeadLettered(out, m.expect, m.what);
        else if (out.letters > 0) assertDeadLettered(out, "schema", m.what);
        else assert.deepEqual([out.acked, out.naks], [1, []], m.what);
      }),
      briefly(3000),
    );
  });

  const hostile = fc.oneof(
    { arbitrary: fc.uint8Array({ maxLength: 4096 }), weight: 4 },
    { arbitrary: fc.jsonValue({ maxDepth: 6 }).map(bytesOf), weight: 4 },
    { arbitrary: fc.string({ unit: "binary", maxLength: 2000 }).map(bytesOf), weight: 4 },
    // __proto__ / constructor keys around otherwise valid fields
    {
      arbitrary: validEvent.map((e) =>
        bytesOf(`{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},${JSON.stringify(e).slice(1)}`),
      ),
      weight: 4,
    },
    // deep nesting, in a field and as the whole message
    {
      arbitrary: fc.integer({ min: 1, max: 100_000 }).map((n) => bytesOf(`{"specversion":"1.0","data":${"[".repeat(n)}${"]".repeat(n)}}`)),
      weight: 1,
    },
    { arbitrary: fc.integer({ min: 1, max: 50_000 }).map((n) => bytesOf(`${'{"a":'.repeat(n)}1${"}".repeat(n)}`)), weight: 1 },
    // invalid UTF-8 somewhere in a valid event: an ASCII byte replaced by one that cannot stand there
    {
      arbitrary: fc.tuple(validEvent, fc.nat(), fc.constantFrom(0xff, 0xc3, 0xed, 0x80)).map(([e, at, byte]) => {
        const bytes = bytesOf(e);
        const ascii = [...bytes.keys()].filter((i) => bytes[i]! < 0x80);
        bytes[ascii[at % ascii.length]!] = byte;
        return bytes;
      }),
      weight: 4,
    },
    // a huge unknown key: its name must not blow up the problems or the dead letter
    { arbitrary: fc.integer({ min: 1000, max: 500_000 }).map((n) => bytesOf(`{"${"k".repeat(n)}":1}`)), weight: 1 },
    // thousands of unknown keys: one problem each must not make the dead letter unbounded
    {
      arbitrary: fc
        .integer({ min: 100, max: 20_000 })
        .map((n) => bytesOf(Object.fromEntries(Array.from({ length: n }, (_, i) => [`x${i}`, i])))),
      weight: 1,
    },
  );

  test("property - hostile bytes are dead-lettered as schema problems", async () => {
    const h = recordingHandler();
    await fc.assert(
      fc.asyncProperty(hostile, async (bytes) => {
        total++;
        assertDeadLettered(await h.send(SUBJECT, bytes), "schema", `${bytes.byteLength} hostile bytes`);
      }),
      briefly(4500),
    );
  });

  test("property - payloads around NATS's 1 MiB limit: applied up to the limit, dead-lettered above it", async () => {
    const h = recordingHandler();
    const base = bytesOf(event({ node: "node1" }));
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: MAX_EVENT_BYTES - 4096, max: MAX_EVENT_BYTES + 4096 }),
        fc.boolean(),
        async (size, padInString) => {
          total++;
          // Whitespace keeps the JSON valid; a padded string value breaks a length bound instead.
          const text = padInString
            ? JSON.stringify({ ...event({ node: "node1" }), id: "x".repeat(size - base.byteLength) })
            : " ".repeat(Math.max(0, size - base.byteLength)) + new TextDecoder().decode(base);
          const out = await h.send(SUBJECT, bytesOf(text));
          if (!padInString && Buffer.byteLength(text) <= MAX_EVENT_BYTES) assert.deepEqual([out.acked, out.letters], [1, 0]);
          else assertDeadLettered(out, "schema", `${size} bytes`);
        },
      ),
      briefly(60),
    );
  });
});
