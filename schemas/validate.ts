// Every message read off the wire is parsed here, by the validators compiled ahead of time from the
// schemas (wire-validators.generated.ts, `npm run schemas:write`; a unit test keeps them current).
import type { ValidateFunction } from "./ajv.ts";
import type { ContainerEvent } from "./container-event.ts";
import type { DeadLetter } from "./dead-letter.ts";
import { SchemaError, describeErrors } from "./errors.ts";
import type { NodeSnapshot } from "./node-snapshot.ts";
import type { RepairRequest } from "./repair-request.ts";
import * as compiled from "./wire-validators.generated.ts";

const validateContainerEvent = compiled.containerEvent as ValidateFunction<ContainerEvent>;
const validateNodeSnapshot = compiled.nodeSnapshot as ValidateFunction<NodeSnapshot>;
const validateRepairRequest = compiled.repairRequest as ValidateFunction<RepairRequest>;
const validateDeadLetter = compiled.deadLetter as ValidateFunction<DeadLetter>;

/** Largest message accepted off the wire; NATS's default max_payload is 1 MiB. */
export const MAX_EVENT_BYTES = 1024 * 1024;

export type BerthEvent = ContainerEvent | NodeSnapshot;

/**
 * A parser of one kind of event: the schema, plus the rules JSON Schema cannot say (the source and
 * subject agree with the data).
 */
function parserOf<T extends BerthEvent>(what: string, validate: ValidateFunction<T>, subjectIs: string, subjectOf: (event: T) => string) {
  return (value: unknown): T => {
    if (!validate(value)) throw new SchemaError(`invalid ${what}`, describeErrors(validate.errors));
    const problems: string[] = [];
    if (value.source !== `berth://${value.data.node.name}`) problems.push("/source must name data.node.name");
    if (value.subject !== subjectOf(value)) problems.push(`/subject must equal ${subjectIs}`);
    if (problems.length > 0) throw new SchemaError(`invalid ${what}`, problems);
    return value;
  };
}

export const parseContainerEvent = parserOf("container event", validateContainerEvent, "data.container.id", (e) => e.data.container.id);
export const parseNodeSnapshot = parserOf("node snapshot", validateNodeSnapshot, "data.node.name", (e) => e.data.node.name);

/** Any berth event, told apart by its `type`. */
export function parseBerthEvent(value: unknown): BerthEvent {
  const type = typeof value === "object" && value !== null ? (value as { type?: unknown }).type : undefined;
  return type === "io.berth.node.snapshot" ? parseNodeSnapshot(value) : parseContainerEvent(value);
}

/** Decodes bytes off the wire; anything that is not a JSON object of the contract is a SchemaError. */
export function decodeBerthEvent(bytes: Uint8Array): BerthEvent {
  if (bytes.byteLength > MAX_EVENT_BYTES) {
    throw new SchemaError("invalid event", [`message is ${bytes.byteLength} bytes, over ${MAX_EVENT_BYTES}`]);
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (err) {
    throw new SchemaError("undecodable message", [(err as Error).message], { cause: err });
  }
  return parseBerthEvent(value);
}

export function parseRepairRequest(value: unknown): RepairRequest {
  if (!validateRepairRequest(value)) throw new SchemaError("invalid repair request", describeErrors(validateRepairRequest.errors));
  return value;
}

/** A letter read off the dead-letter stream (JSON-decoded); anything else is a SchemaError. */
export function parseDeadLetter(value: unknown): DeadLetter {
  if (!validateDeadLetter(value)) throw new SchemaError("invalid dead letter", describeErrors(validateDeadLetter.errors));
  return value;
}
