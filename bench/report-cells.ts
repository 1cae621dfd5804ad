// The cells of the bench's table: one row per figure, each cell already text.
import type { FloorCheck, Spread } from "./floor-check.ts";

export type Row = [
  figure: string,
  berth: string,
  berthSpread: string,
  floor: string,
  floorSpread: string,
  ratio: string,
  target: string,
  met: string,
];

export const ms = (v: unknown) => (typeof v === "number" ? `${v.toLocaleString("en-US")} ms` : "—");
export const perS = (v: unknown) => (typeof v === "number" ? `${v.toLocaleString("en-US")}/s` : "—");
export const mb = (v: unknown) => (typeof v === "number" ? `${v} MB` : "—");
export const times = (v: unknown) => (typeof v === "number" ? `${v}×` : "");
export const yes = (v: unknown) => (v === true ? "yes" : v === false ? "no" : "");

/** A figure without spreads: the two spread cells left empty. */
export const wide = ([figure, berth, floor, ratio, target, met]: [string, string, string, string, string, string]): Row => [
  figure,
  berth,
  "",
  floor,
  "",
  ratio,
  target,
  met,
];

/** min / median / max over the rounds, in `unit` (e.g. " ms", "/s", " µs"). */
export const spread = (s: Spread | undefined, unit: string) =>
  s === undefined || s.rounds === 0 ? "" : `${[s.min, s.median, s.max].map((v) => v.toLocaleString("en-US")).join(" / ")}${unit}`;

/** The ratio to the floor, or, for a floor that does not bound berth's figure, the refusal's mark (the message follows the table). */
export const ratioOf = (check: FloorCheck | undefined) =>
  check === undefined ? "" : check.refused !== undefined ? "refused: floor not below" : times(check.ratio);

/** "no" whenever a floor beside the figure was refused, else whether the target was met. */
export const metWith = (met: unknown, ...checks: (FloorCheck | undefined)[]) =>
  checks.some((c) => c?.refused !== undefined) ? "no" : yes(met);
