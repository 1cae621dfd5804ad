// `npm run schemas:write`: the schemas as plain JSON Schema files for consumers in other languages,
// and the validators berth's processes use, compiled ahead of time from the same schemas.
import { writeFileSync } from "node:fs";
import { validatorsSource } from "./ajv.ts";
import { containerEventSchema } from "./container-event.ts";
import { deadLetterSchema } from "./dead-letter.ts";
import { nodeSnapshotSchema } from "./node-snapshot.ts";
import { repairRequestSchema } from "./repair-request.ts";

/** Every schema of the wire contract, by the file it is exported as. */
export const JSON_SCHEMA_FILES = {
  "schemas/json/container-event.v1.json": containerEventSchema,
  "schemas/json/node-snapshot.v1.json": nodeSnapshotSchema,
  "schemas/json/repair-request.v1.json": repairRequestSchema,
  "schemas/json/dead-letter.v1.json": deadLetterSchema,
} as const;

export function renderJsonSchema(schema: object): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}

export const WIRE_VALIDATORS_FILE = "schemas/wire-validators.generated.ts";

/** The generated module: one validator per wire schema, by the name schemas/validate.ts imports. */
export const renderWireValidators = (): Promise<string> =>
  validatorsSource("wire", {
    containerEvent: containerEventSchema,
    nodeSnapshot: nodeSnapshotSchema,
    repairRequest: repairRequestSchema,
    deadLetter: deadLetterSchema,
  });

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const [path, schema] of Object.entries(JSON_SCHEMA_FILES)) writeFileSync(path, renderJsonSchema(schema));
  writeFileSync(WIRE_VALIDATORS_FILE, await renderWireValidators());
}
