// The cells of the bench's table: one row per figure, each cell already text.
export type Row = [figure: string, berth: string, floor: string, ratio: string, target: string, met: string];

export const ms = (v: unknown) => (typeof v === "number" ? `${v.toLocaleString("en-US")} ms` : "—");
export const perS = (v: unknown) => (typeof v === "number" ? `${v.toLocaleString("en-US")}/s` : "—");
export const mb = (v: unknown) => (typeof v === "number" ? `${v} MB` : "—");
export const times = (v: unknown) => (typeof v === "number" ? `${v}×` : "");
export const yes = (v: unknown) => (v === true ? "yes" : v === false ? "no" : "");
