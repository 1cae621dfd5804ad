// Part of `npm run schemas:write`: the validators of every process's variables, compiled ahead of
// time from the EnvSchemas the config modules declare (ENV_SCHEMAS).
import { writeFileSync } from "node:fs";
import { validatorsSource } from "../schemas/ajv.ts";
import { ENV_SCHEMAS } from "./config.ts";

/** The JSON Schema of the object of variables (only declared ones, each optional unless defaulted). */
const envObjectSchema = (properties: Readonly<Record<string, object>>) => ({ type: "object", properties, additionalProperties: false });

export const ENV_VALIDATORS_FILE = "common/env-validators.generated.ts";

export async function renderEnvValidators(): Promise<string> {
  // Importing them declares their schemas.
  await Promise.all([import("../emitter/config.ts"), import("../handler/config.ts"), import("../cli/mapping-config.ts")]);
  const schemas = Object.fromEntries(
    [...ENV_SCHEMAS].sort(([a], [b]) => a.localeCompare(b)).map(([name, p]) => [name, envObjectSchema(p)]),
  );
  // Every variable some part of berth reads: what common/env-names.ts tells a look-alike from.
  const names = [...new Set([...ENV_SCHEMAS.values()].flatMap((p) => Object.keys(p)))].sort();
  return `${await validatorsSource("env", schemas)}export const ENV_NAMES = ${JSON.stringify(names)};\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) writeFileSync(ENV_VALIDATORS_FILE, await renderEnvValidators());
