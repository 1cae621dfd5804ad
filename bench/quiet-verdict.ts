// Item 5's verdict, from its samples (one per round, berth's and the floors' alternating): each
// floor checked against berth's figure, and the target the hop floor sets.
import { checkFloor, refusalsIn, type FloorCheck } from "./floor-check.ts";
import { percentile, round } from "./measure.ts";
import { QUIET_TARGET } from "./targets.ts";

export type Stats = { min_ms: number; median_ms: number; p90_ms: number; max_ms: number };

export function statsOf(samples: readonly number[]): Stats {
  return {
    min_ms: round(Math.min(...samples)),
    median_ms: round(percentile(samples, 50)),
    p90_ms: round(percentile(samples, 90)),
    max_ms: round(Math.max(...samples)),
  };
}

export type QuietVerdict = { checks: { whole: FloorCheck; hop: FloorCheck }; target: { median_ms: number; p90_ms: number }; met: boolean };

/**
 * `start`: berth's start returned → registered; `hop` and `whole`: the floor's publish → consumed and
 * → registered; `every`: the spacing, as the refusals name it (e.g. "every 500 ms").
 */
export function quietVerdict(start: readonly number[], hop: readonly number[], whole: readonly number[], every = ""): QuietVerdict {
  const what = `start returned → registered${every === "" ? "" : ` ${every}`}`;
  const checks = {
    whole: checkFloor(`${what}, beside the bare publish → pull → PUT`, " ms", "lower", start, whole),
    hop: checkFloor(`${what}, beside one bus hop`, " ms", "lower", start, hop),
  };
  const hopMedian = percentile(hop, 50);
  const target = { median_ms: round(hopMedian + QUIET_TARGET.median_over_hop_ms), p90_ms: round(hopMedian + QUIET_TARGET.p90_over_hop_ms) };
  const withinTarget = percentile(start, 50) <= target.median_ms && percentile(start, 90) <= target.p90_ms;
  return { checks, target, met: refusalsIn(checks).length === 0 && withinTarget };
}
