// The tolerant reader's half of the schemas: which objects of the wire are open, and how the
// fields berth does not know are taken out of a message before anything else sees it.
//
// A record (the envelope, data, the node, the container, a port, a network) is open: a newer
// emitter may add a field, a CloudEvents tool an attribute, and an older handler still applies the
// event. Maps whose keys are data (env, labels, networks by name) are not records: every key is
// checked (env only SERVICE_*), none is "unknown". Everything named in a record stays validated.

/** Said in the exported JSON Schema of every open record. */
export const OPEN_RECORD =
  "Open: fields berth does not know are accepted and ignored (never stored, never forwarded, counted in berth_unknown_fields_total), so that a newer writer can add one without older readers failing; their number and names are bounded. A change a reader cannot ignore is a new version (docs/upgrading.md).";

/**
 * An open record of at most `maxProperties` fields, known and unknown together (a message cannot
 * balloon with names to count and log; its whole size is capped by MAX_EVENT_BYTES).
 */
export const openRecord = <const N extends number>(maxProperties: N) =>
  ({ type: "object", $comment: OPEN_RECORD, maxProperties, propertyNames: { maxLength: 64 }, additionalProperties: true }) as const;

/** Told of each field a reader ignored: where (e.g. `event.data.container`) and its name. */
export type OnUnknown = (where: string, name: string) => void;

const ignore: OnUnknown = () => undefined;

type SchemaNode = { properties?: Record<string, SchemaNode>; items?: SchemaNode; additionalProperties?: boolean | SchemaNode };

/**
 * Removes from `value`, in place, every field its schema's records do not name, and tells
 * `onUnknown` of each. `value` has passed the schema already: what is left is exactly what the
 * types derived from it say.
 */
export function stripUnknown(schema: SchemaNode, value: unknown, where: string, onUnknown: OnUnknown = ignore): void {
  if (typeof value !== "object" || value === null) return;
  if (Array.isArray(value)) {
    if (schema.items) for (const item of value) stripUnknown(schema.items, item, where, onUnknown);
    return;
  }
  const record = value as Record<string, unknown>;
  const known = schema.properties;
  if (known) {
    for (const name of Object.keys(record)) {
      const field = Object.hasOwn(known, name) ? known[name] : undefined;
      if (field) stripUnknown(field, record[name], `${where}.${name}`, onUnknown);
      else {
        Reflect.deleteProperty(record, name);
        onUnknown(where, name);
      }
    }
  } else if (typeof schema.additionalProperties === "object") {
    for (const entry of Object.values(record)) stripUnknown(schema.additionalProperties, entry, `${where}.*`, onUnknown);
  }
}

/** Drops a record's index signature (its ignored fields) from a type derived from a schema; maps keep theirs. */
type NamedKeys<T> = keyof { [K in keyof T as string extends K ? never : K]: 0 };
export type Known<T> = T extends readonly (infer U)[]
  ? Known<U>[]
  : T extends object
    ? [NamedKeys<T>] extends [never]
      ? { [K in keyof T]: Known<T[K]> }
      : { [K in keyof T as string extends K ? never : K]: Known<T[K]> }
    : T;
