// The metric names test/promql-names.ts reads out of PromQL: what the examples' check relies on.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { alertExpressions, dashboardExpressions, metricNames } from "./promql-names.ts";

describe("promql names", () => {
  test("promql names - metrics only: no function, keyword, label, string, range, number or Grafana variable", () => {
    assert.deepEqual(metricNames('histogram_quantile(0.99, sum by (le, node) (rate(berth_x_bucket{job=~"$job",a="b c"}[5m]))) > 5'), [
      "berth_x_bucket",
    ]);
    assert.deepEqual(
      metricNames("sum by (node) (increase(a_total[10m])) > sum without (x) (increase(b_total[$__rate_interval] offset 5m))"),
      ["a_total", "b_total"],
    );
    assert.deepEqual(metricNames("max(p) + max(q) > 1e3 and on (instance) up == 0 or vector(1) unless r != r"), ["p", "q", "r", "up"]);
    assert.deepEqual(metricNames("deriv(max(berth_consumer_pending)[15m:1m]) > 0"), ["berth_consumer_pending"]);
    assert.deepEqual(metricNames('time() - process_start_time_seconds{job=~"${job}"}'), ["process_start_time_seconds"]);
  });

  test("promql names - the examples' expressions are all found: one per alert, every dashboard query", () => {
    const alerts = alertExpressions();
    const rules = readFileSync(new URL("../examples/prometheus-alerts.yaml", import.meta.url), "utf8");
    assert.equal(alerts.length, rules.match(/- alert:/g)?.length, "every alert's expr found, on one line");
    assert.ok(alerts.length >= 10, `${alerts.length} alerts`);
    for (const a of alerts) assert.ok(metricNames(a.expr).length > 0, `${a.alert}: ${a.expr}`);
    const queries = dashboardExpressions();
    assert.ok(queries.length >= 15, `${queries.length} queries`);
    for (const q of queries) assert.ok(metricNames(q.expr).length > 0, `${q.panel}: ${q.expr}`);
  });
});
