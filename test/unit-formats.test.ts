// The formats with one owner each: state keys, the dead letter, the ownership filters.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { containerKeysOf, parseStateKey, snapshotKey, snapshotTimeKey, stateKey } from "../common/state-keys.ts";
import { ownedByContainer, ownedByNode } from "../mapping/meta.ts";
import { SchemaError, encodeDeadLetter, parseDeadLetter, toDeadLetter } from "../schemas/index.ts";
import { ID_A, bytesOf, event } from "./builders.ts";

describe("formats", () => {
  test("formats - every state key parses back to what built it", () => {
    assert.deepEqual(parseStateKey(stateKey("node3", ID_A)), { kind: "container", node: "node3", containerId: ID_A });
    assert.deepEqual(parseStateKey(snapshotKey("node3")), { kind: "snapshot", node: "node3" });
    assert.deepEqual(parseStateKey(snapshotTimeKey("node3")), { kind: "bookkeeping", key: "_snapshot-time.node3" });
    assert.equal(containerKeysOf("node3"), "node3.*");
  });

  test("formats - any key starting with _ is bookkeeping; a key of no known shape is none of berth's", () => {
    for (const key of ["_", "_other", "_future.kind.node3", `_x.node3.${ID_A}`]) assert.equal(parseStateKey(key)?.kind, "bookkeeping", key);
    for (const key of ["", "node.3", "node3.abc", `node3.${ID_A}.x`, `-lead.${ID_A}`, `node3.${ID_A.toUpperCase()}`]) {
      assert.equal(parseStateKey(key), undefined, key);
    }
  });

  test("formats - the handler's and the emitter's letters follow the one dead-letter schema", () => {
    const at = new Date(0);
    const received = toDeadLetter(
      "schema",
      ["/ bad"],
      { subject: "berth.v1.node3.container.started", data: bytesOf("{oops"), deliveryCount: 2 },
      at,
    );
    assert.deepEqual(parseDeadLetter(JSON.parse(new TextDecoder().decode(encodeDeadLetter(received)))), {
      reason: "schema",
      problems: ["/ bad"],
      subject: "berth.v1.node3.container.started",
      deliveryCount: 2,
      payload: "{oops",
      encoding: "utf-8",
      truncated: false,
      at: "1970-01-01T00:00:00.000Z",
    });
    const refused = toDeadLetter(
      "emitter-schema",
      ["/data bad"],
      { subject: "berth.v1.node3.container.started", data: bytesOf(event()) },
      at,
    );
    assert.equal(parseDeadLetter(refused).deliveryCount, undefined);
    assert.deepEqual(JSON.parse(refused.payload), event());
  });

  test("formats - a hostile message's letter stays within the schema's bounds", () => {
    const huge = new Uint8Array(1024 * 1024).fill(0xff); // not UTF-8: base64
    const problems = Array.from({ length: 500 }, (_, i) => `${i} ${"x".repeat(10_000)}`);
    const letter = toDeadLetter("schema", problems, { subject: `berth.v1.${"n".repeat(5000)}.a.b`, data: huge, deliveryCount: 1 });
    assert.deepEqual([letter.encoding, letter.truncated, letter.problems.length], ["base64", true, 51]);
    assert.equal(letter.problems.at(-1), "… and 450 more problems");
    assert.deepEqual(parseDeadLetter(letter), letter);
  });

  test("formats - a letter of another shape is refused", () => {
    const emitterLetterOfOld = { reason: "emitter-schema", problems: [], subject: "s", event: "{}" };
    assert.throws(() => parseDeadLetter(emitterLetterOfOld), SchemaError);
  });

  test("formats - the ownership filters quote the node, and refuse what cannot be quoted", () => {
    assert.equal(ownedByNode("node3"), 'Meta.berth_node == "node3"');
    assert.equal(ownedByContainer("node3", ID_A), `Meta.berth_node == "node3" and Meta.berth_container == "${ID_A}"`);
    for (const node of ['x" or Meta.berth_node != "', "a\\", "a\nb"]) assert.throws(() => ownedByNode(node), /cannot quote/);
  });
});
