// examples/prometheus-alerts.yaml as Prometheus reads it: `promtool check rules` (Debian's
// `prometheus` package) accepts it, and `promtool test rules` fires some of its alerts on the series
// of a troubled fleet (test/fixtures/prometheus-alerts.test.yaml). That every metric it names is
// exported is checked against running processes in test/ops-metrics.test.ts.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, test } from "node:test";
import { requireOrSkip } from "./harness/prereq.ts";

const RULES = fileURLToPath(new URL("../examples/prometheus-alerts.yaml", import.meta.url));
const RULE_TESTS = fileURLToPath(new URL("fixtures/prometheus-alerts.test.yaml", import.meta.url));

const promtool = (...args: string[]) => spawnSync("promtool", args, { encoding: "utf8", timeout: 60_000 });
const hasPromtool = () => promtool("--version").status === 0;

describe("alerts", () => {
  test("alerts - promtool check rules accepts examples/prometheus-alerts.yaml, lint included", (t) => {
    if (!requireOrSkip(t, "promtool (Debian package prometheus)", hasPromtool())) return;
    const r = promtool("check", "rules", "--lint=all", "--lint-fatal", RULES);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /SUCCESS: \d+ rules found/);
  });

  test("alerts - promtool test rules: dead letters, a handler cut off from NATS, a node waiting 10 minutes fire as expected", (t) => {
    if (!requireOrSkip(t, "promtool (Debian package prometheus)", hasPromtool())) return;
    const r = promtool("test", "rules", RULE_TESTS);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });
});
