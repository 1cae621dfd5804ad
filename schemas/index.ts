export {
  CONTAINER_EVENT_TYPES,
  NODE_NAME_PATTERN,
  containerEventSchema,
} from "./container-event.ts";
export { SchemaError } from "./errors.ts";
export {
  DEFAULT_PREFIX,
  deadLetterSubject,
  deadLetterSubjects,
  eventSubjects,
  isValidNodeName,
  isValidPrefix,
  kindOf,
  parseSubject,
  streamNames,
  subjectFor,
} from "./subjects.ts";
export { MAX_EVENT_BYTES, decodeContainerEvent, parseContainerEvent } from "./validate.ts";
export type { Container, ContainerEvent, ContainerEventType, NodeInfo } from "./container-event.ts";
export type { ParsedSubject } from "./subjects.ts";
