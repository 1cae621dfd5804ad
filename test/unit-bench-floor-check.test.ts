// The bench's floors must bound what they sit beside (issue 23): a floor worse than berth's own
// figure is refused with a message instead of a ratio, and fails its item; each figure carries its
// spread over the rounds. Pure functions of the samples (bench/floor-check.ts,
// bench/quiet-verdict.ts, the table's cells), so no measurement is needed to see them decide.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { checkFloor, refusalsIn, spreadOf } from "../bench/floor-check.ts";
import { quietVerdict } from "../bench/quiet-verdict.ts";
import { metWith, ratioOf, spread } from "../bench/report-cells.ts";
import { refusedFloors } from "../bench/report.ts";

describe("bench floors", () => {
  test("spread - min, nearest-rank median and max over the rounds; none measured is said as no rounds", () => {
    assert.deepEqual(spreadOf([4.2, 3.1, 9.8, 5]), { min: 3.1, median: 4.2, max: 9.8, rounds: 4 });
    assert.equal(spreadOf([]).rounds, 0);
    assert.equal(spread(spreadOf([4.2, 3.1, 9.8]), " ms"), "3.1 / 4.2 / 9.8 ms");
  });

  test("times - a floor below berth's figure bounds it: the ratio of the medians, nothing refused", () => {
    const check = checkFloor("latency p50", " ms", "lower", [4.9, 5.1, 4.7], [3.0, 2.4, 2.6]);
    assert.equal(check.refused, undefined);
    assert.equal(check.ratio, 1.88); // 4.9 / 2.6
    assert.equal(ratioOf(check), "1.88×");
    assert.equal(metWith(true, check), "yes");
  });

  test("times - a floor above berth's figure is refused with both figures and their spreads, and no ratio", () => {
    // The issue's quiet host at 5 s: the floor's 13.12 ms beside berth's 4.84 ms.
    const check = checkFloor("start returned → registered", " ms", "lower", [4.84, 4.2, 5.6], [13.12, 12, 14.5]);
    assert.equal(check.ratio, undefined);
    assert.match(
      check.refused ?? "",
      /^start returned → registered: the floor, 13\.12 ms \(rounds 12–14\.5\), is above berth's 4\.84 ms \(rounds 4\.2–5\.6\)/,
    );
    assert.equal(ratioOf(check), "refused: floor not below");
    assert.equal(metWith(true, check), "no", "a refused floor fails the item even where the target was met");
  });

  test("rates - higher is better: a floor rate below berth's is refused, one above bounds it", () => {
    const refused = checkFloor("throughput, 2 workers", "/s", "higher", [2400, 2300], [2100, 2000]);
    assert.match(refused.refused ?? "", /the floor, 2000\/s \(rounds 2000–2100\), is below berth's 2300\/s/);
    const bound = checkFloor("throughput, 2 workers", "/s", "higher", [2400, 2300], [6000, 5000]);
    assert.deepEqual([bound.refused, bound.ratio], [undefined, 0.46]); // 2300 / 5000
  });

  test("a side without a measured round is refused, not compared", () => {
    assert.match(checkFloor("CPU per event", " µs", "lower", [500], []).refused ?? "", /the floor has no measured round/);
    assert.match(checkFloor("CPU per event", " µs", "lower", [Number.NaN], [200]).refused ?? "", /berth has no measured round/);
  });

  test("equal medians bound (ratio 1): only a floor strictly worse is refused", () => {
    assert.deepEqual(checkFloor("x", " ms", "lower", [3], [3]).ratio, 1);
  });

  test("refusals are found wherever an item keeps its checks, and listed after the table", () => {
    const figures = {
      latency: {
        floor_checks: {
          p50: checkFloor("latency p50", " ms", "lower", [2], [1]),
          p99: checkFloor("latency p99", " ms", "lower", [2], [3]),
        },
      },
      quiet: { spacings: { every_500_ms: { floor_checks: { whole: checkFloor("quiet", " ms", "lower", [1], [2]) } } } },
    };
    const found = refusalsIn(figures);
    assert.deepEqual(
      found.map((r) => r.split(":")[0]),
      ["latency p99", "quiet"],
    );
    assert.deepEqual(refusedFloors(figures).slice(1, 2), ["Refused floors (each fails its item):"]);
    assert.deepEqual(refusedFloors({ latency: { floor_checks: {} } }), []);
  });

  test("quiet - the target is the hop floor's median + 2.2 ms (median) and + 3.5 ms (p90)", () => {
    const hop = [1.5, 1.8, 2.0, 2.2, 2.5];
    const whole = [2.5, 2.8, 3.0, 3.2, 3.5];
    const within = quietVerdict([3.9, 4.0, 4.1, 4.2, 5.4], hop, whole);
    assert.deepEqual(within.target, { median_ms: 4.2, p90_ms: 5.5 });
    assert.equal(within.met, true);
    assert.deepEqual([within.checks.whole.ratio, within.checks.hop.ratio], [1.37, 2.05]);
    const slowMedian = quietVerdict([4.1, 4.3, 4.3, 4.4, 5], hop, whole);
    assert.equal(slowMedian.met, false, "median 4.3 ms over 4.2");
    const slowTail = quietVerdict([3.9, 4.0, 4.1, 4.2, 5.6], hop, whole);
    assert.equal(slowTail.met, false, "p90 5.6 ms over 5.5");
  });

  test("quiet - a whole floor above berth fails the item even though berth met the target", () => {
    const verdict = quietVerdict([3.0, 3.1, 3.2], [1.0, 1.1, 1.2], [6.8, 6.9, 7.0], "every 5000 ms");
    assert.match(
      verdict.checks.whole.refused ?? "",
      /^start returned → registered every 5000 ms, beside the bare publish → pull → PUT: the floor, 6\.9 ms/,
    );
    assert.equal(verdict.checks.hop.refused, undefined);
    assert.equal(verdict.met, false);
  });
});
