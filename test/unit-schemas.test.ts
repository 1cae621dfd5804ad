import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { describe, test } from "node:test";
import { JSON_SCHEMA_FILES, WIRE_VALIDATORS_FILE, renderJsonSchema, renderWireValidators } from "../schemas/write-json.ts";
import { SchemaError, containerEventSchema, decodeBerthEvent, parseContainerEvent } from "../schemas/index.ts";
import { bytesOf, event } from "./builders.ts";

function problemsOf(value: unknown): string[] {
  try {
    parseContainerEvent(value);
  } catch (err) {
    assert.ok(err instanceof SchemaError);
    return err.problems;
  }
  assert.fail("expected a SchemaError");
}

describe("schemas", () => {
  test("schemas - the exported JSON Schema files are up to date (run `npm run schemas:write`)", () => {
    for (const [path, schema] of Object.entries(JSON_SCHEMA_FILES)) {
      assert.equal(readFileSync(path, "utf8"), renderJsonSchema(schema), `${path} is stale`);
    }
    // …and every file there is one of them (the dead letter's too): none left behind by a removed schema.
    assert.deepEqual(
      readdirSync("schemas/json")
        .map((f) => `schemas/json/${f}`)
        .sort(),
      Object.keys(JSON_SCHEMA_FILES).sort(),
    );
  });

  test("schemas - the validators compiled from them are up to date (run `npm run schemas:write`)", async () => {
    assert.equal(readFileSync(WIRE_VALIDATORS_FILE, "utf8"), await renderWireValidators(), `${WIRE_VALIDATORS_FILE} is stale`);
  });

  test("schemas - a built event is valid", () => {
    assert.deepEqual(parseContainerEvent(event()), event());
  });

  test("schemas - every missing required field is reported", () => {
    const { id: _id, data: _data, ...rest } = event();
    const problems = problemsOf(rest);
    assert.ok(
      problems.some((p) => p.includes("'id'")),
      problems.join(),
    );
    assert.ok(
      problems.some((p) => p.includes("'data'")),
      problems.join(),
    );
  });

  test("schemas - every record of the exported schemas is open and says why, within bounds; maps stay checked key by key", () => {
    type Node = { properties?: object; additionalProperties?: unknown; $comment?: string; maxProperties?: number; propertyNames?: object };
    const records: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (typeof node !== "object" || node === null) return;
      const n = node as Node;
      if (n.properties) {
        records.push(path);
        assert.notEqual(n.additionalProperties, false, `${path} is closed`);
        assert.match(n.$comment ?? "", /^Open.*ignored/, `${path} does not say it is open and why`);
        assert.ok(n.maxProperties !== undefined && n.propertyNames !== undefined, `${path} is open without bounds`);
      }
      for (const [key, child] of Object.entries(node)) walk(child, `${path}/${key}`);
    };
    for (const file of Object.keys(JSON_SCHEMA_FILES)) walk(JSON.parse(readFileSync(file, "utf8")), file);
    assert.ok(records.length >= 12, records.join());
    const env = containerEventSchema.properties.data.properties.container.properties.env;
    assert.deepEqual([env.propertyNames.pattern, "properties" in env], ["^SERVICE_", false]);
  });

  test("schemas - env may only carry SERVICE_* keys", () => {
    const problems = problemsOf(event({ container: { env: { SERVICE_NAME: "a", DB_PASSWORD: "x" } } }));
    assert.ok(
      problems.some((p) => p.includes("/data/container/env")),
      problems.join(),
    );
  });

  test("schemas - node names that are not subject tokens are rejected", () => {
    for (const name of ["node.3", "node 3", "*", ">", "", "-lead", "x".repeat(64)]) {
      const e = event();
      (e.data.node as { name: string }).name = name;
      assert.ok(
        problemsOf(e).some((p) => p.includes("/data/node/name")),
        name,
      );
    }
  });

  test("schemas - source and subject must agree with data", () => {
    const e = { ...event(), source: "berth://node1" };
    assert.deepEqual(problemsOf(e), ["/source must name data.node.name"]);
    const f = { ...event(), subject: "b".repeat(64) };
    assert.deepEqual(problemsOf(f), ["/subject must equal data.container.id"]);
  });

  test("schemas - bytes that are not UTF-8 JSON are SchemaErrors, not crashes", () => {
    for (const bytes of [new Uint8Array([0xff, 0xfe, 0x7b]), bytesOf("{"), bytesOf("null"), bytesOf("[]"), bytesOf('"x"')]) {
      assert.throws(() => decodeBerthEvent(bytes), SchemaError);
    }
  });

  test("schemas - oversized messages are refused before parsing", () => {
    assert.throws(() => decodeBerthEvent(new Uint8Array(1024 * 1024 + 1)), /over 1048576/);
  });
});
