// The only file that imports ajv: one strict instance for the wire, one coercing instance for config.
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";

/** Wire validation: no coercion, no defaults, every error reported. */
export const wireAjv = new Ajv({ strict: true, allErrors: true, coerceTypes: false, useDefaults: false });

/** Config validation: environment strings become numbers/booleans, defaults are filled in. */
export const configAjv = new Ajv({ strict: true, allErrors: true, coerceTypes: true, useDefaults: true });

export type { ErrorObject, ValidateFunction };

/** Bounds of what a problem list may hold: a hostile message's keys and sizes must not make it unbounded. */
const MAX_PROBLEMS = 50;
const MAX_PROBLEM_TEXT = 300;
const clip = (text: string) => (text.length > MAX_PROBLEM_TEXT ? `${text.slice(0, MAX_PROBLEM_TEXT)}…` : text);

/** One line per problem, e.g. `/data/node/name must match pattern "…"`; at most 50, each at most 300 characters. */
export function describeErrors(errors: readonly ErrorObject[] | null | undefined, root = ""): string[] {
  const all = errors ?? [];
  const lines = all.slice(0, MAX_PROBLEMS).map((e) => {
    const where = `${root}${e.instancePath}` || "/";
    const extra = e.keyword === "additionalProperties" ? ` (${String(e.params["additionalProperty"])})` : "";
    return clip(`${where} ${e.message ?? e.keyword}${extra}`);
  });
  if (all.length > MAX_PROBLEMS) lines.push(`… and ${all.length - MAX_PROBLEMS} more problems`);
  return lines;
}
