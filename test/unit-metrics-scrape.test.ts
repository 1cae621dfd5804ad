// The Prometheus text parser the scrape tests rely on (test/metrics-scrape.ts): it must read what
// berth's registry renders, and refuse what is not the format instead of reading it as "absent".
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createRegistry } from "../common/metrics.ts";
import { histogramOf, parseExposition, sampleOf, seriesOf, valueOf } from "./metrics-scrape.ts";

describe("metrics scrape parser", () => {
  test("metrics scrape parser - reads counters, gauges and histograms rendered by the registry, escapes included", async () => {
    const r = createRegistry();
    r.counter("c_total", "a counter\nwith a line break", ["type", "node"]).inc({ type: 'say "hi"\\n', node: "n1" }, 3);
    r.gauge("g", "a gauge", []).set({}, NaN);
    const h = r.histogram("h_seconds", "a histogram", ["node"], [0.1, 1]);
    h.observe({ node: "n1" }, 0.05);
    h.observe({ node: "n1" }, 5);
    const m = parseExposition(await r.render());
    assert.equal(m.families.get("c_total")?.help, "a counter\nwith a line break");
    assert.equal(sampleOf(m, "c_total", { type: 'say "hi"\\n', node: "n1" }), 3);
    assert.equal(sampleOf(m, "c_total", { node: "n1" }), undefined, "labels match exactly");
    assert.equal(seriesOf(m, "c_total", { node: "n1" }).length, 1, "seriesOf matches a subset");
    assert.equal(valueOf(m, "c_total", { type: "other", node: "n1" }), 0);
    assert.ok(Number.isNaN(sampleOf(m, "g")));
    assert.deepEqual(histogramOf(m, "h_seconds", { node: "n1" }), {
      buckets: [
        { le: 0.1, count: 1 },
        { le: 1, count: 1 },
        { le: Infinity, count: 2 },
      ],
      sum: 5.05,
      count: 2,
    });
    assert.deepEqual(
      [...m.families.values()].map((f) => [f.name, f.type]),
      [
        ["c_total", "counter"],
        ["g", "gauge"],
        ["h_seconds", "histogram"],
      ],
    );
  });

  test("metrics scrape parser - refuses lines that are not the format", () => {
    const typed = "# TYPE x counter\n";
    for (const bad of [
      `${typed}x{a="1" 1`, // unterminated labels
      `${typed}x{a=1} 1`, // unquoted value
      `${typed}x{a="1",a="2"} 1`, // label twice
      `${typed}x{a="\\t"} 1`, // unknown escape
      `${typed}x one`, // not a number
      `${typed}x 1\nx 2`, // series repeated
      "y 1", // no TYPE
      `${typed}# TYPE z gauge\nx 1`, // outside its family's block
      "# TYPE x countr\nx 1", // unknown type
    ]) {
      assert.throws(() => parseExposition(bad), Error, bad);
    }
  });
});
