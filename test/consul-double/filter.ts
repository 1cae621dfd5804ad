// Parser for the go-bexpr (v0.1.2, the version Consul vendors) filter grammar: a PEG with
// ordered choice and backtracking; errors report the farthest failure like pigeon does.
import { createCursor } from "./peg.ts";

export type MatchOp = "==" | "!=" | "in" | "not in" | "is empty" | "is not empty" | "matches" | "not matches";
export type FilterExpr =
  | { t: "and" | "or"; l: FilterExpr; r: FilterExpr }
  | { t: "not"; e: FilterExpr }
  | { t: "match"; sel: string[]; op: MatchOp; value?: string };

export class FilterError extends Error {
  override name = "FilterError";
}

export function parseFilter(src: string): FilterExpr {
  const c = createCursor(src);
  const { attempt, lit, cls, ws, eof, ruleError } = c;

  const identifier = (): string | null => {
    const start = c.pos;
    if (!cls(/[a-zA-Z]/, "[a-zA-Z]")) return null;
    while (cls(/[a-zA-Z0-9_]/, "[a-zA-Z0-9_]"));
    return src.slice(start, c.pos);
  };
  const stringLiteral = (): string | null => {
    const start = c.pos;
    for (const q of ["`", '"']) {
      const r = attempt(() => {
        if (!lit(q)) return null;
        while (c.pos < src.length && src[c.pos] !== q) c.pos++;
        return lit(q) ? src.slice(start, c.pos) : null;
      });
      if (r !== null) {
        if (q === "`") return r.slice(1, -1);
        try {
          return JSON.parse(r) as string;
        } catch {
          ruleError("string", "invalid syntax");
          return "";
        }
      }
    }
    if (src[c.pos] === "`" || src[c.pos] === '"') {
      c.pos = src.length;
      ruleError("string", "Unterminated string literal");
      c.pos = start;
    }
    return null;
  };
  const index = (): string | null =>
    attempt(() => {
      if (!lit("[")) return null;
      ws();
      const s = stringLiteral();
      if (s === null) return (ruleError("index", "Invalid index"), null);
      ws();
      if (!lit("]")) return (ruleError("index", "Unclosed index expression"), null);
      return s;
    });
  const selector = (): string[] | null =>
    attempt(() => {
      const first = identifier();
      if (first === null) return null;
      const path = [first];
      for (;;) {
        const next = attempt(() => (lit(".") ? identifier() : null)) ?? index();
        if (next === null) return path;
        path.push(next);
      }
    });
  const number = (): string | null =>
    attempt(() => {
      const start = c.pos;
      lit("-");
      if (!lit("0")) {
        if (!cls(/[1-9]/, "[1-9]")) return null;
        while (cls(/[0-9]/, "[0-9]"));
      }
      attempt(() =>
        lit(".") && cls(/[0-9]/, "[0-9]")
          ? (() => {
              while (cls(/[0-9]/, "[0-9]"));
              return true;
            })()
          : null,
      );
      const text = src.slice(start, c.pos);
      const after = attempt(() => (ws() || eof() || lit(")") ? true : null));
      c.pos = start + text.length;
      if (!after) return (ruleError("number", "Invalid number literal"), null);
      return text;
    });
  const value = (): string | null => {
    const sel = selector();
    if (sel) return sel.join(".");
    return number() ?? stringLiteral();
  };
  const op = (...alts: Array<[MatchOp, () => boolean]>): MatchOp | null => {
    for (const [name, fn] of alts) if (attempt(() => (fn() ? true : null))) return name;
    return null;
  };
  const kw =
    (...words: string[]) =>
    () =>
      words.every((w) => ws() && lit(w));
  const opt = (w: string) => () => (ws(), lit(w) && (ws(), true));

  const match = (): FilterExpr | null =>
    attempt(() => {
      const sel = selector();
      const o =
        sel &&
        op(
          ["==", opt("==")],
          ["!=", opt("!=")],
          ["in", () => kw("contains")() && ws()],
          ["not in", () => kw("not", "contains")() && ws()],
          ["matches", () => kw("matches")() && ws()],
          ["not matches", () => kw("not", "matches")() && ws()],
        );
      const v = o && value();
      return sel && o && v !== null ? { t: "match", sel, op: o, value: v } : null;
    }) ??
    attempt(() => {
      const sel = selector();
      const o = sel && op(["is empty", kw("is", "empty")], ["is not empty", kw("is", "not", "empty")]);
      return sel && o ? { t: "match", sel, op: o } : null;
    }) ??
    attempt(() => {
      const v = value();
      const o = v !== null && op(["in", () => kw("in")() && ws()], ["not in", () => kw("not", "in")() && ws()]);
      if (v === null || !o) return null;
      const sel = selector();
      if (!sel) return (ruleError("match", "Invalid selector"), null);
      return { t: "match", sel, op: o, value: v };
    });

  const paren = (): FilterExpr | null =>
    attempt(() => {
      if (!lit("(")) return null;
      ws();
      return closeParen(or());
    }) ??
    match() ??
    attempt(() => {
      if (lit("(") && (ws(), or()) && (ws(), src[c.pos] !== ")")) ruleError("grouping", "Unmatched parentheses");
      return null;
    });
  const closeParen = (e: FilterExpr | null) => (e && (ws(), lit(")")) ? e : null);
  const not = (): FilterExpr | null =>
    attempt(() => {
      if (!(lit("not") && ws())) return null;
      const e = not();
      if (!e) return null;
      return e.t === "not" ? e.e : { t: "not", e };
    }) ?? paren();
  const binary = (kind: "and" | "or", sub: () => FilterExpr | null) => {
    const self = (): FilterExpr | null =>
      attempt(() => {
        const l = sub();
        const r = l && ws() && lit(kind) && ws() ? self() : null;
        return l && r ? { t: kind, l, r } : null;
      }) ?? sub();
    return self;
  };
  const and = binary("and", not);
  const or = binary("or", and);

  const tree =
    attempt(() => {
      ws();
      if (!lit("(")) return null;
      ws();
      const e = closeParen(or());
      return e && (ws(), eof()) ? e : null;
    }) ??
    attempt(() => {
      ws();
      const e = or();
      return e && (ws(), eof()) ? e : null;
    });
  const problem = c.error(tree !== null);
  if (problem !== undefined || tree === null) throw new FilterError(problem ?? "no match found");
  return tree;
}
