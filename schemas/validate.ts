// Every message read off the wire is parsed here, by the validators compiled ahead of time from the
// schemas (wire-validators.generated.ts, `npm run schemas:write`; a unit test keeps them current).
// What the schemas name is validated; what they do not name is taken out (schemas/open.ts) and
// reported to the caller's `onUnknown`, so nothing berth does not know is stored or forwarded.
import type { ValidateFunction } from "./ajv.ts";
import { containerEventSchema, type ContainerEvent } from "./container-event.ts";
import { deadLetterSchema, type DeadLetter } from "./dead-letter.ts";
import { SchemaError, describeErrors } from "./errors.ts";
import { nodeSnapshotSchema, type NodeSnapshot } from "./node-snapshot.ts";
import { unknownStripper, type OnUnknown } from "./open.ts";
import { repairRequestSchema, type RepairRequest } from "./repair-request.ts";
import * as compiled from "./wire-validators.generated.ts";

const validateContainerEvent = compiled.containerEvent as ValidateFunction<ContainerEvent>;
const validateNodeSnapshot = compiled.nodeSnapshot as ValidateFunction<NodeSnapshot>;
const validateRepairRequest = compiled.repairRequest as ValidateFunction<RepairRequest>;
const validateDeadLetter = compiled.deadLetter as ValidateFunction<DeadLetter>;

/** Largest message accepted off the wire; NATS's default max_payload is 1 MiB. */
export const MAX_EVENT_BYTES = 1024 * 1024;

export type BerthEvent = ContainerEvent | NodeSnapshot;

/** Validates `value` as `schema` says, then takes out what the schema does not name (reported as under `where`). */
function readerOf<T>(what: string, validate: ValidateFunction<T>, schema: object, where: string) {
  const stripUnknown = unknownStripper(schema, where);
  return (value: unknown, onUnknown?: OnUnknown): T => {
    if (!validate(value)) throw new SchemaError(`invalid ${what}`, describeErrors(validate.errors));
    stripUnknown(value, onUnknown);
    return value;
  };
}

/**
 * A parser of one kind of event: the schema, plus the rules JSON Schema cannot say (the source and
 * subject agree with the data).
 */
function parserOf<T extends BerthEvent>(
  what: string,
  validate: ValidateFunction<T>,
  schema: object,
  subjectIs: string,
  subjectOf: (event: T) => string,
) {
  const read = readerOf(what, validate, schema, what === "node snapshot" ? "snapshot" : "event");
  return (value: unknown, onUnknown?: OnUnknown): T => {
    const event = read(value, onUnknown);
    const problems: string[] = [];
    if (event.source !== `berth://${event.data.node.name}`) problems.push("/source must name data.node.name");
    if (event.subject !== subjectOf(event)) problems.push(`/subject must equal ${subjectIs}`);
    if (problems.length > 0) throw new SchemaError(`invalid ${what}`, problems);
    return event;
  };
}

export const parseContainerEvent = parserOf(
  "container event",
  validateContainerEvent,
  containerEventSchema,
  "data.container.id",
  (e) => e.data.container.id,
);
export const parseNodeSnapshot = parserOf(
  "node snapshot",
  validateNodeSnapshot,
  nodeSnapshotSchema,
  "data.node.name",
  (e) => e.data.node.name,
);

/** Any berth event, told apart by its `type`. */
export function parseBerthEvent(value: unknown, onUnknown?: OnUnknown): BerthEvent {
  const type = typeof value === "object" && value !== null ? (value as { type?: unknown }).type : undefined;
  return type === "io.berth.node.snapshot" ? parseNodeSnapshot(value, onUnknown) : parseContainerEvent(value, onUnknown);
}

/** Stateless between calls (no `stream`): one for every message. */
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Decodes bytes off the wire; anything that is not a JSON object of the contract is a SchemaError. */
export function decodeBerthEvent(bytes: Uint8Array, onUnknown?: OnUnknown): BerthEvent {
  if (bytes.byteLength > MAX_EVENT_BYTES) {
    throw new SchemaError("invalid event", [`message is ${bytes.byteLength} bytes, over ${MAX_EVENT_BYTES}`]);
  }
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(bytes));
  } catch (err) {
    throw new SchemaError("undecodable message", [(err as Error).message], { cause: err });
  }
  return parseBerthEvent(value, onUnknown);
}

export const parseRepairRequest = readerOf("repair request", validateRepairRequest, repairRequestSchema, "repair-request");

/** A letter read off the dead-letter stream (JSON-decoded); anything else is a SchemaError. */
export const parseDeadLetter = readerOf("dead letter", validateDeadLetter, deadLetterSchema, "dead-letter");
