export { CONTAINER_EVENT_TYPES, containerEventSchema } from "./container-event.ts";
export { cloudEventOf, toContainerEvent, toNodeSnapshot } from "./build.ts";
export { SchemaError } from "./errors.ts";
export { deadLetterSchema, encodeDeadLetter, toDeadLetter } from "./dead-letter.ts";
export { CONTAINER_ID_PATTERN, NODE_NAME_PATTERN, PREFIX_PATTERN, isContainerId, isValidNodeName, isValidPrefix } from "./patterns.ts";
export {
  DEFAULT_PREFIX,
  deadLetterSubject,
  deadLetterSubjects,
  eventSubjects,
  kindOf,
  nodeOfRepairSubject,
  parseSubject,
  repairSubject,
  repairSubjects,
  streamNames,
  subjectFor,
} from "./subjects.ts";
export { MAX_SNAPSHOT_CONTAINERS, nodeSnapshotSchema } from "./node-snapshot.ts";
export {
  MAX_EVENT_BYTES,
  decodeBerthEvent,
  parseBerthEvent,
  parseContainerEvent,
  parseDeadLetter,
  parseNodeSnapshot,
  parseRepairRequest,
} from "./validate.ts";
export type { BerthEvent } from "./validate.ts";
export type { NodeSnapshot } from "./node-snapshot.ts";
export type { Container, ContainerEvent, ContainerEventType, NodeInfo } from "./container-event.ts";
export type { ParsedSubject } from "./subjects.ts";
export { repairRequestSchema } from "./repair-request.ts";
export { NewerVersion, STATE_VERSION, STATE_VERSION_ATTRIBUTE, readStateEntry } from "./state-entry.ts";
export type { OnUnknown } from "./open.ts";
export type { RepairRequest } from "./repair-request.ts";
export type { DeadLetter, DeadLetterReason, RefusedMessage } from "./dead-letter.ts";
