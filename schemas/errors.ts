import type { ErrorObject } from "./ajv.ts";

/** Bounds of what a problem list may hold: a hostile message's keys and sizes must not make it unbounded. */
export const MAX_PROBLEMS = 50;
export const MAX_PROBLEM_TEXT = 300;

/** `text` cut to `max` characters, `…` marking the cut. */
export const clipText = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max)}…` : text);

/**
 * At most MAX_PROBLEMS problems of at most MAX_PROBLEM_TEXT characters each (plus the `…` of a
 * cut), and one more line that counts the problems left out. `total`: how many there were, when
 * the caller passed only the first ones.
 */
export function clipProblems(problems: readonly string[], total = problems.length): string[] {
  const lines = problems.slice(0, MAX_PROBLEMS).map((p) => clipText(p, MAX_PROBLEM_TEXT));
  if (total > MAX_PROBLEMS) lines.push(`… and ${total - MAX_PROBLEMS} more problems`);
  return lines;
}

/** One line per problem, e.g. `/data/node/name must match pattern "…"`; bounded as clipProblems bounds them. */
export function describeErrors(errors: readonly ErrorObject[] | null | undefined, root = ""): string[] {
  const all = errors ?? [];
  const lines = all.slice(0, MAX_PROBLEMS).map((e) => {
    const where = `${root}${e.instancePath}` || "/";
    const extra = e.keyword === "additionalProperties" ? ` (${String(e.params["additionalProperty"])})` : "";
    return `${where} ${e.message ?? e.keyword}${extra}`;
  });
  return clipProblems(lines, all.length);
}

/** A message that does not follow the wire contract; it will never become valid, so it is dead-lettered. */
export class SchemaError extends Error {
  override readonly name = "SchemaError";
  readonly code = "E_SCHEMA";
  readonly problems: string[];
  constructor(message: string, problems: string[], options?: ErrorOptions) {
    super(`${message}: ${problems.join("; ")}`, options);
    this.problems = problems;
  }
}
