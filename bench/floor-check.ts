// A floor beside the berth figure it bounds: the spread of each over the rounds that measured them,
// and the verdict. A floor is what the same work costs without berth's code; one worse than berth's
// own figure measures something berth does not pay (a cold process, an idle connection, another
// moment of the machine), and a ratio printed against it would mean nothing: it is refused instead.
import { percentile, round } from "./measure.ts";

/** A figure over the rounds that measured it: its smallest, median (nearest rank) and largest value. */
export type Spread = { min: number; median: number; max: number; rounds: number };

export function spreadOf(perRound: readonly number[]): Spread {
  const finite = perRound.filter(Number.isFinite);
  if (finite.length === 0) return { min: Number.NaN, median: Number.NaN, max: Number.NaN, rounds: 0 };
  return { min: round(Math.min(...finite)), median: round(percentile(finite, 50)), max: round(Math.max(...finite)), rounds: finite.length };
}

/** Times and CPU per event: lower is better, so a floor must not be higher. Rates: the other way round. */
export type Better = "lower" | "higher";

export type FloorCheck = {
  berth: Spread;
  floor: Spread;
  /** berth's median over the floor's (rounded), only when the floor bounds berth's figure. */
  ratio?: number;
  /** Why the floor is refused as a bound, said instead of a ratio. */
  refused?: string;
};

/**
 * Compares berth's figure with its floor, each given as one value per round (the rounds alternate,
 * so both saw the same machine): their medians over the rounds decide. `what` names the figure and
 * `unit` its unit in the refusal, as printed after a number (" ms", "/s").
 */
export function checkFloor(
  what: string,
  unit: string,
  better: Better,
  berthRounds: readonly number[],
  floorRounds: readonly number[],
): FloorCheck {
  const berth = spreadOf(berthRounds);
  const floor = spreadOf(floorRounds);
  if (berth.rounds === 0 || floor.rounds === 0) {
    return { berth, floor, refused: `${what}: ${berth.rounds === 0 ? "berth" : "the floor"} has no measured round` };
  }
  const worse = better === "lower" ? floor.median > berth.median : floor.median < berth.median;
  if (worse) {
    const side = better === "lower" ? "above" : "below";
    const range = (s: Spread) => `${s.median}${unit} (rounds ${s.min}–${s.max})`;
    return {
      berth,
      floor,
      refused: `${what}: the floor, ${range(floor)}, is ${side} berth's ${range(berth)}: it measures something berth does not pay, so it bounds nothing and no ratio is given`,
    };
  }
  return { berth, floor, ratio: round(berth.median / floor.median) };
}

/** Every refusal in an item's figures, however deep (results.json's shape is the items' own). */
export function refusalsIn(figures: unknown): string[] {
  if (typeof figures !== "object" || figures === null) return [];
  const own = "refused" in figures && typeof figures.refused === "string" ? [figures.refused] : [];
  return [...own, ...Object.values(figures).flatMap(refusalsIn)];
}
