// The grammar of the names and numbers the wire contract carries, each defined here and nowhere
// else: the schemas use them as JSON Schema `pattern`s, the configuration and the code that reads
// names back (subjects, state keys, logs, agent listings) use them through these predicates.

/** Node names become NATS subject tokens and `{node}` in agent URL templates. */
export const NODE_NAME_PATTERN = "^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$";
/** Docker's full container ID. */
export const CONTAINER_ID_PATTERN = "^[0-9a-f]{64}$";
/** `BERTH_PREFIX`: the first token of every subject, and of the stream, consumer and bucket names. */
export const PREFIX_PATTERN = "^[a-z][a-z0-9_-]{0,31}$";
/** Docker event time in nanoseconds since the epoch, as decimal text (it does not fit a double). */
export const NANOS_PATTERN = "^[0-9]{1,20}$";
const nodeName = new RegExp(NODE_NAME_PATTERN);
const containerId = new RegExp(CONTAINER_ID_PATTERN);
const prefix = new RegExp(PREFIX_PATTERN);

export const isValidNodeName = (name: string): boolean => nodeName.test(name);
export const isContainerId = (id: string): boolean => containerId.test(id);
export const isValidPrefix = (text: string): boolean => prefix.test(text);
