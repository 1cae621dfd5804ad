// The only file that imports ajv: one strict instance for the wire, one coercing instance for config.
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { MAX_PROBLEMS, clipProblems } from "./errors.ts";

/** Wire validation: no coercion, no defaults, every error reported. */
export const wireAjv = new Ajv({ strict: true, allErrors: true, coerceTypes: false, useDefaults: false });

/** Config validation: environment strings become numbers/booleans, defaults are filled in. */
export const configAjv = new Ajv({ strict: true, allErrors: true, coerceTypes: true, useDefaults: true });

export type { ErrorObject, ValidateFunction };

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
