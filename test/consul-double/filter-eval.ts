// go-bexpr v0.1.2 semantics over the wire views: selector validation against the datum's
// field configuration, value coercion, and evaluation (missing map keys, implicit ANY
// over slices of structs).
import { FilterError, parseFilter, type FilterExpr, type MatchOp } from "./filter.ts";

export type Cfg =
  { k: "string" | "int" | "bool" } | { k: "slice"; elem: Cfg } | { k: "map"; elem: Cfg } | { k: "struct"; fields: Record<string, Cfg> };

const S: Cfg = { k: "string" };
const I: Cfg = { k: "int" };
const B: Cfg = { k: "bool" };
const strs: Cfg = { k: "slice", elem: S };
const strMap: Cfg = { k: "map", elem: S };
const struct = (fields: Record<string, Cfg>): Cfg => ({ k: "struct", fields });
const weights = struct({ Passing: I, Warning: I });
const tagged = { k: "map", elem: struct({ Address: S, Port: I }) } as const;
const proxy = struct({ DestinationServiceName: S, DestinationServiceID: S, LocalServiceAddress: S, LocalServicePort: I, Mode: S });
const connect = struct({ Native: B });

const serviceFields = {
  Kind: S,
  ID: S,
  Service: S,
  Tags: strs,
  Meta: strMap,
  Port: I,
  Address: S,
  SocketPath: S,
  TaggedAddresses: tagged,
  Weights: weights,
  EnableTagOverride: B,
  Proxy: proxy,
  Connect: connect,
  PeerName: S,
};
export const agentServiceCfg = struct(serviceFields);
const checkFields = {
  Node: S,
  CheckID: S,
  Name: S,
  Status: S,
  Notes: S,
  Output: S,
  ServiceID: S,
  ServiceName: S,
  ServiceTags: strs,
  Type: S,
  Interval: S,
  Timeout: S,
  ExposedPort: I,
  PeerName: S,
};
export const healthCheckCfg = struct(checkFields);
const nodeFields = { ID: S, Node: S, Address: S, Datacenter: S, TaggedAddresses: strMap };
export const serviceNodeCfg = struct({
  ...nodeFields,
  NodeMeta: strMap,
  ServiceKind: S,
  ServiceID: S,
  ServiceName: S,
  ServiceTags: strs,
  ServiceAddress: S,
  ServiceTaggedAddresses: tagged,
  ServiceWeights: weights,
  ServiceMeta: strMap,
  ServicePort: I,
  ServiceSocketPath: S,
  ServiceEnableTagOverride: B,
  ServiceProxy: proxy,
  ServiceConnect: connect,
});
export const checkServiceNodeCfg = struct({
  Node: struct({ ...nodeFields, Meta: strMap }),
  Service: struct(serviceFields),
  Checks: { k: "slice", elem: healthCheckCfg },
});

const OP_NAMES: Record<MatchOp, string> = {
  "==": "Equal",
  "!=": "Not Equal",
  in: "In",
  "not in": "Not In",
  "is empty": "Is Empty",
  "is not empty": "Is Not Empty",
  matches: "Matches",
  "not matches": "Not Matches",
};

function supported(cfg: Cfg): MatchOp[] {
  if (cfg.k === "string") return ["==", "!=", "in", "not in", "matches", "not matches"];
  if (cfg.k === "int" || cfg.k === "bool") return ["==", "!="];
  if (cfg.k === "map") return ["is empty", "is not empty", "in", "not in"];
  if (cfg.k === "slice") return cfg.elem.k === "struct" ? ["is empty", "is not empty"] : ["in", "not in", "is empty", "is not empty"];
  return [];
}

function coerce(raw: string, cfg: Cfg, sel: string): string | number | boolean {
  const target = cfg.k === "slice" ? cfg.elem : cfg.k === "map" ? S : cfg;
  const fail = (fn: string) =>
    new FilterError(
      `Failed to coerce value ${JSON.stringify(raw)} for selector ${JSON.stringify(sel)}: strconv.${fn}: parsing ${JSON.stringify(raw)}: invalid syntax`,
    );
  if (target.k === "int") {
    const clean = raw.replace(/_/g, "");
    if (!/^[+-]?(0[xX][0-9a-fA-F]+|0[oO]?[0-7]*|0[bB][01]+|[1-9][0-9]*)$/.test(clean)) throw fail("ParseInt");
    const neg = clean.startsWith("-");
    const body = clean.replace(/^[+-]/, "");
    const n = /^0[0-7]+$/.test(body) ? parseInt(body, 8) : Number(body.replace(/^0[oO]/, "0o"));
    return neg ? -n : n;
  }
  if (target.k === "bool") {
    if (["1", "t", "T", "TRUE", "true", "True"].includes(raw)) return true;
    if (["0", "f", "F", "FALSE", "false", "False"].includes(raw)) return false;
    throw fail("ParseBool");
  }
  return raw;
}

type Compiled = { expr: FilterExpr; values: Map<FilterExpr, string | number | boolean> };

function validate(expr: FilterExpr, root: Cfg, values: Compiled["values"]): void {
  if (expr.t === "not") {
    validate(expr.e, root, values);
    return;
  }
  if (expr.t !== "match") {
    validate(expr.l, root, values);
    validate(expr.r, root, values);
    return;
  }
  let cur = root;
  expr.sel.forEach((name, i) => {
    const next =
      cur.k === "struct"
        ? cur.fields[name]
        : cur.k === "map"
          ? cur.elem
          : cur.k === "slice" && cur.elem.k === "struct"
            ? cur.elem.fields[name]
            : undefined;
    if (!next) throw new FilterError(`Selector ${JSON.stringify(expr.sel.slice(0, i + 1).join("."))} is not valid`);
    cur = next;
  });
  const sel = expr.sel.join(".");
  if (!supported(cur).includes(expr.op))
    throw new FilterError(`Invalid match operator "${OP_NAMES[expr.op]}" for selector ${JSON.stringify(sel)}`);
  if (expr.value !== undefined) values.set(expr, coerce(expr.value, cur, sel));
}

function zero(cfg: Cfg): unknown {
  return cfg.k === "string" ? "" : cfg.k === "int" ? 0 : cfg.k === "bool" ? false : cfg.k === "slice" ? [] : {};
}

function apply(op: MatchOp, v: unknown, cfg: Cfg, want: string | number | boolean | undefined): boolean {
  switch (op) {
    case "==":
      return v === want;
    case "!=":
      return v !== want;
    case "in":
    case "not in": {
      const found = Array.isArray(v)
        ? v.includes(want)
        : typeof v === "string"
          ? v.includes(String(want))
          : Object.hasOwn(v ?? {}, String(want));
      return op === "in" ? found : !found;
    }
    case "is empty":
    case "is not empty": {
      const empty = Array.isArray(v) || typeof v === "string" ? v.length === 0 : Object.keys(v ?? {}).length === 0;
      return op === "is empty" ? empty : !empty;
    }
    case "matches":
    case "not matches": {
      const hit = new RegExp(String(want)).test(String(v ?? zero(cfg)));
      return op === "matches" ? hit : !hit;
    }
  }
}

function evalMatch(
  m: Extract<FilterExpr, { t: "match" }>,
  datum: unknown,
  root: Cfg,
  want: string | number | boolean | undefined,
): boolean {
  const walk = (v: unknown, depth: number, cfg: Cfg): boolean => {
    if (depth >= m.sel.length) return apply(m.op, v ?? zero(cfg), cfg, want);
    const name = m.sel[depth] ?? "";
    if (cfg.k === "slice") return ((v ?? []) as unknown[]).some((item) => walk(item, depth, cfg.elem));
    if (cfg.k === "map") {
      const obj = (v ?? {}) as Record<string, unknown>;
      if (!Object.hasOwn(obj, name)) return !(m.op === "==" || m.op === "is not empty" || m.op === "in");
      return walk(obj[name], depth + 1, cfg.elem);
    }
    if (cfg.k === "struct") {
      const next = cfg.fields[name] ?? S;
      return walk(((v ?? {}) as Record<string, unknown>)[name] ?? zero(next), depth + 1, next);
    }
    return false;
  };
  return walk(datum, 0, root);
}

/** Compiles `expression` for a datum type; throws FilterError(detail) when invalid. */
export function compileFilter(expression: string, root: Cfg): (datum: unknown) => boolean {
  if (expression === "") return () => true;
  const expr = parseFilter(expression);
  const values: Compiled["values"] = new Map();
  validate(expr, root, values);
  const run = (e: FilterExpr, d: unknown): boolean =>
    e.t === "match"
      ? evalMatch(e, d, root, values.get(e))
      : e.t === "not"
        ? !run(e.e, d)
        : e.t === "and"
          ? run(e.l, d) && run(e.r, d)
          : run(e.l, d) || run(e.r, d);
  return (datum) => run(expr, datum);
}
