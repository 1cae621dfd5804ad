// LOG_FORMAT: JSON lines for machines, readable lines for people at a terminal.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { loadEmitterConfig } from "../emitter/config.ts";
import { isPretty } from "../common/log.ts";
import { prettyLine } from "../common/log-pretty.ts";

const line = (fields: Record<string, unknown>) =>
  JSON.stringify({ level: "info", time: new Date(2024, 0, 2, 3, 4, 5, 6).getTime(), svc: "handler", msg: "applied", ...fields });

describe("log format", () => {
  test("log format - a pretty line has the time, level, process, message, then the fields", () => {
    assert.equal(prettyLine(line({ node: "node1", rounds: 1 }), false), "03:04:05.006 INFO  handler applied node=node1 rounds=1\n");
  });

  test("log format - container IDs are cut to 12 characters; text with spaces and arrays stay readable JSON", () => {
    const text = prettyLine(line({ container: "ab".repeat(32), err: "agent unreachable", services: ["a", "b"] }), false);
    assert.match(text, / container=abababababab err="agent unreachable" services=\["a","b"\]\n$/);
  });

  test("log format - colour only when asked; a line that is not JSON passes through", () => {
    // eslint-disable-next-line no-control-regex -- ESC starts the ANSI colour codes this asserts
    assert.match(prettyLine(JSON.stringify({ level: "error", msg: "x" }), true), /\x1b\[31mERROR\x1b\[0m/);
    assert.equal(prettyLine("not json", false), "not json\n");
  });

  test("log format - auto is pretty only on a terminal; json and pretty are what they say", () => {
    assert.deepEqual(
      [isPretty("auto", { isTTY: true }), isPretty("auto", {}), isPretty("json", { isTTY: true }), isPretty("pretty", {})],
      [true, false, false, true],
    );
  });

  test("log format - LOG_FORMAT defaults to auto and refuses other values", () => {
    assert.equal(loadEmitterConfig({}).LOG_FORMAT, "auto");
    assert.throws(() => loadEmitterConfig({ LOG_FORMAT: "xml" }), /LOG_FORMAT/);
  });
});
