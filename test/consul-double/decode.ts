// Strict, case-insensitive decoding of JSON bodies into Go-like structs, the way Consul's
// lib.DecodeJSON (encoding/json + DisallowUnknownFields) behaves. The first error in
// document order wins, as with Go's saveError.
import { DurationError, parseGoDuration } from "./duration.ts";
import { scanFirstValue, JsonSyntaxError, type JNode } from "./json-scan.ts";

export type Schema =
  | { t: "string" | "int" | "bool" | "duration" | "any" }
  | { t: "array"; of: Schema; goType: string }
  | { t: "map"; of: Schema; goType: string }
  | { t: "struct"; name: string; fields: Field[] };

export type Field = { name: string; schema: Schema; aliases?: string[]; ignore?: boolean };

/** A decode failure; `message` is the text after "Request decode failed: ". */
export class DecodeError extends Error {
  override name = "DecodeError";
}

const GO_TYPE: Record<string, string> = { string: "string", int: "int", bool: "bool" };

function jsonKind(n: JNode): string {
  return { obj: "object", arr: "array", str: "string", num: "number", bool: "bool", null: "null" }[n.k];
}

function goTypeOf(s: Schema): string {
  if (s.t === "struct") return `structs.${s.name}`;
  if (s.t === "array" || s.t === "map") return s.goType;
  return GO_TYPE[s.t] ?? "interface {}";
}

function typeError(what: string, path: string[], s: Schema): DecodeError {
  const where = path.length > 1 ? `Go struct field ${path.join(".")}` : `Go value`;
  return new DecodeError(`json: cannot unmarshal ${what} into ${where} of type ${goTypeOf(s)}`);
}

function plain(n: JNode): unknown {
  switch (n.k) {
    case "obj":
      return Object.fromEntries(n.entries.map(([k, v]) => [k, plain(v)]));
    case "arr":
      return n.items.map(plain);
    case "str":
    case "bool":
      return n.v;
    case "num":
      return Number(n.raw);
    case "null":
      return null;
  }
}

function findField(fields: Field[], key: string): Field | undefined {
  const keysOf = (f: Field) => [f.name, ...(f.aliases ?? [])];
  const exact = fields.find((f) => keysOf(f).includes(key));
  if (exact) return exact;
  const lower = key.toLowerCase();
  return fields.find((f) => keysOf(f).some((k) => k.toLowerCase() === lower));
}

function decodeNode(n: JNode, s: Schema, path: string[]): unknown {
  if (n.k === "null") return undefined;
  switch (s.t) {
    case "any":
      return plain(n);
    case "string":
      if (n.k !== "str") throw typeError(jsonKind(n), path, s);
      return n.v;
    case "bool":
      if (n.k !== "bool") throw typeError(jsonKind(n), path, s);
      return n.v;
    case "int": {
      if (n.k !== "num") throw typeError(jsonKind(n), path, s);
      const ok = /^-?\d+$/.test(n.raw) && Math.abs(Number(n.raw)) <= 2 ** 63;
      if (!ok) throw typeError(`number ${n.raw}`, path, s);
      return Number(n.raw);
    }
    case "duration":
      // Consul decodes these into interface{}: strings are parsed, numbers are
      // nanoseconds, anything else is silently ignored.
      if (n.k === "str") {
        try {
          return parseGoDuration(n.v);
        } catch (err) {
          if (err instanceof DurationError) throw new DecodeError(err.message);
          throw err;
        }
      }
      return n.k === "num" ? Math.trunc(Number(n.raw)) : undefined;
    case "array":
      if (n.k !== "arr") throw typeError(jsonKind(n), path, s);
      return n.items.map((item) => decodeNode(item, s.of, path) ?? zeroOf(s.of));
    case "map": {
      if (n.k !== "obj") throw typeError(jsonKind(n), path, s);
      const out: Record<string, unknown> = {};
      for (const [k, v] of n.entries) out[k] = decodeNode(v, s.of, path) ?? zeroOf(s.of);
      return out;
    }
    case "struct": {
      if (n.k !== "obj") throw typeError(jsonKind(n), path.length ? path : [s.name], s);
      const out: Record<string, unknown> = {};
      for (const [key, v] of n.entries) {
        const f = findField(s.fields, key);
        if (!f) throw new DecodeError(`json: unknown field ${JSON.stringify(key)}`);
        const base = path.length ? path : [s.name];
        const value = decodeNode(v, f.schema, [...base, f.name]);
        if (value !== undefined && !f.ignore) out[f.name] = value;
      }
      return out;
    }
  }
}

function zeroOf(s: Schema): unknown {
  if (s.t === "string") return "";
  if (s.t === "int" || s.t === "duration") return 0;
  if (s.t === "bool") return false;
  return s.t === "struct" ? {} : null;
}

/**
 * Decodes a body against a struct schema. Returns the decoded record, whose keys are the
 * canonical field names (aliases folded in). Throws DecodeError with Go's message.
 */
export function decodeBody(body: Buffer, schema: Schema): Record<string, unknown> {
  let root: JNode;
  try {
    root = scanFirstValue(body);
  } catch (err) {
    if (err instanceof JsonSyntaxError) throw new DecodeError(err.message);
    throw err;
  }
  if (root.k === "null") return {};
  const out = decodeNode(root, schema, []);
  return (out ?? {}) as Record<string, unknown>;
}
