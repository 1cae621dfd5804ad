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

/** What a stripper walks, made once per schema: each record's fields and its place, named ahead (no string built per event). */
type Shape = { where: string; fields?: Map<string, Shape | undefined>; items?: Shape; values?: Shape };

function shapeOf(schema: SchemaNode, where: string): Shape | undefined {
  if (schema.properties) {
    const fields = new Map(Object.entries(schema.properties).map(([name, field]) => [name, shapeOf(field, `${where}.${name}`)]));
    return { where, fields };
  }
  const items = schema.items && shapeOf(schema.items, where);
  if (items) return { where, items };
  const values = typeof schema.additionalProperties === "object" ? shapeOf(schema.additionalProperties, `${where}.*`) : undefined;
  return values && { where, values };
}

function strip(shape: Shape, value: unknown, onUnknown: OnUnknown): void {
  if (typeof value !== "object" || value === null) return;
  if (Array.isArray(value)) {
    if (shape.items) for (const item of value) strip(shape.items, item, onUnknown);
    return;
  }
  const record = value as Record<string, unknown>;
  if (shape.fields) {
    for (const name of Object.keys(record)) {
      const field = shape.fields.get(name);
      if (field) strip(field, record[name], onUnknown);
      else if (!shape.fields.has(name)) {
        Reflect.deleteProperty(record, name);
        onUnknown(shape.where, name);
      }
    }
  } else if (shape.values) for (const entry of Object.values(record)) strip(shape.values, entry, onUnknown);
}

/**
 * A function that removes from a value, in place, every field the records of `schema` do not
 * name, and tells `onUnknown` of each (`where`: `root` and the path, e.g. `event.data.container`).
 * The value has passed the schema already: what is left is exactly what the types derived from it say.
 */
export function unknownStripper(schema: object, root: string): (value: unknown, onUnknown?: OnUnknown) => void {
  const shape = shapeOf(schema, root);
  return (value, onUnknown = ignore) => {
    if (shape) strip(shape, value, onUnknown);
  };
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
