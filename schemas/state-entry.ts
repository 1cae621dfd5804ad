// The state bucket's entries: each the event a handler applied (a container's latest, a node's last
// snapshot), as berth reads it — the attributes and fields it does not know were taken out when it
// was received, so none is stored.
//
// Every handler reads what every other wrote, whatever its version, so an entry says which format
// it is in: `berthversion`, absent for this format (1). A writer of a later, incompatible format
// writes its number there; a reader that meets a version it does not know leaves the work to a
// handler that knows it (NewerVersion: the message is delivered again, never dead-lettered). This
// format's writers leave the field out, so that berth before it (which refuses an attribute it
// does not know) reads their entries too: a rolling upgrade from it, and a rollback to it, work.
import { SchemaError } from "./errors.ts";

const decoder = new TextDecoder();

/** The state entry format this berth writes and reads. */
export const STATE_VERSION = 1;
/** The entry's attribute naming its format (a CloudEvents extension name: entries stay CloudEvents). */
export const STATE_VERSION_ATTRIBUTE = "berthversion";

/** An entry written by a later berth, in a format this one does not know: not this handler's to apply. */
export class NewerVersion extends Error {
  override readonly name = "NewerVersion";
  readonly code = "E_NEWER_VERSION";
  readonly version: number;
  constructor(version: number) {
    super(
      `a state entry is in format ${version}, written by a newer berth; this one reads format ${STATE_VERSION}: left to a handler that reads it (upgrade this one, docs/upgrading.md)`,
    );
    this.version = version;
  }
}

/** The entry's format: STATE_VERSION when absent; NewerVersion when later; SchemaError when not a version at all. */
export function checkStateVersion(value: unknown): void {
  const version = typeof value === "object" && value !== null ? (value as Record<string, unknown>)[STATE_VERSION_ATTRIBUTE] : undefined;
  if (version === undefined || version === STATE_VERSION) return;
  if (typeof version === "number" && Number.isSafeInteger(version) && version > STATE_VERSION) throw new NewerVersion(version);
  throw new SchemaError("invalid state entry", [`/${STATE_VERSION_ATTRIBUTE} must be a format number, at least ${STATE_VERSION}`]);
}

/** Reads a state entry's bytes with `parse` (the event's parser), once its format is known to be this one. */
export function readStateEntry<T>(bytes: Uint8Array, parse: (value: unknown) => T): T {
  const value: unknown = JSON.parse(decoder.decode(bytes));
  checkStateVersion(value);
  return parse(value);
}
