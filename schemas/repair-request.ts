// A node whose agent could not take its changes (down, failing, or slow): the handlers recorded
// them in the state bucket and ask, on `<prefix>.v1.repair.<node>`, for the node to be repaired
// from there. The stream keeps the newest request per node; `berth status` shows them as the nodes
// that wait, and for what.
import type { FromSchema } from "json-schema-to-ts";
import { openRecord, type Known } from "./open.ts";
import { NODE_NAME_PATTERN } from "./patterns.ts";

export const repairRequestSchema = {
  $id: "https://berth.dev/schemas/repair-request.v1.json",
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "berth repair request",
  ...openRecord(32),
  required: ["node", "reason", "since", "at"],
  properties: {
    node: { type: "string", pattern: NODE_NAME_PATTERN },
    /** What the node waits for, e.g. `agent unreachable: connect ECONNREFUSED 10.0.0.3:8500`. */
    reason: { type: "string", maxLength: 1024 },
    /** Since when the node has been in trouble, as the requesting handler saw it (ISO 8601). */
    since: { type: "string", maxLength: 64 },
    /** When this request was made (ISO 8601). */
    at: { type: "string", maxLength: 64 },
  },
} as const;

export type RepairRequest = Known<FromSchema<typeof repairRequestSchema>>;
