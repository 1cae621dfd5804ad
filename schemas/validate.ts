import { describeErrors, wireAjv } from "../common/ajv.ts";
import { containerEventSchema, type ContainerEvent } from "./container-event.ts";
import { SchemaError } from "./errors.ts";
import { nodeSnapshotSchema, type NodeSnapshot } from "./node-snapshot.ts";

const validateContainerEvent = wireAjv.compile<ContainerEvent>(containerEventSchema);
const validateNodeSnapshot = wireAjv.compile<NodeSnapshot>(nodeSnapshotSchema);

/** Largest message accepted off the wire; NATS's default max_payload is 1 MiB. */
export const MAX_EVENT_BYTES = 1024 * 1024;

export type BerthEvent = ContainerEvent | NodeSnapshot;

/** Checks an already-decoded value against the contract, plus the rules JSON Schema cannot say. */
export function parseContainerEvent(value: unknown): ContainerEvent {
  if (!validateContainerEvent(value)) {
    throw new SchemaError("invalid container event", describeErrors(validateContainerEvent.errors));
  }
  const problems: string[] = [];
  if (value.source !== `berth://${value.data.node.name}`) problems.push("/source must name data.node.name");
  if (value.subject !== value.data.container.id) problems.push("/subject must equal data.container.id");
  if (problems.length > 0) throw new SchemaError("invalid container event", problems);
  return value;
}

export function parseNodeSnapshot(value: unknown): NodeSnapshot {
  if (!validateNodeSnapshot(value)) {
    throw new SchemaError("invalid node snapshot", describeErrors(validateNodeSnapshot.errors));
  }
  const problems: string[] = [];
  if (value.source !== `berth://${value.data.node.name}`) problems.push("/source must name data.node.name");
  if (value.subject !== value.data.node.name) problems.push("/subject must equal data.node.name");
  if (problems.length > 0) throw new SchemaError("invalid node snapshot", problems);
  return value;
}

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

/** A container event off the wire (a snapshot there is a SchemaError). */
export function decodeContainerEvent(bytes: Uint8Array): ContainerEvent {
  const event = decodeBerthEvent(bytes);
  if (event.type === "io.berth.node.snapshot") throw new SchemaError("invalid container event", ["/type is a node snapshot"]);
  return event;
}
