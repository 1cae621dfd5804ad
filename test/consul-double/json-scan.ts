// Reads the first JSON value of a request body the way Go's json.Decoder does, keeping
// object keys in order (duplicates included) and reproducing Go's syntax error texts.

export type JNode =
  | { k: "obj"; entries: Array<[string, JNode]> }
  | { k: "arr"; items: JNode[] }
  | { k: "str"; v: string }
  | { k: "num"; raw: string }
  | { k: "bool"; v: boolean }
  | { k: "null" };

export class JsonSyntaxError extends Error {
  override name = "JsonSyntaxError";
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

/** Go's quoteChar: the offending byte in single quotes, Go-escaped. */
function quoteChar(c: number): string {
  if (c === 0x27) return "'\\''";
  if (c === 0x22) return "'\"'";
  const named: Record<number, string> = { 7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r", 0x5c: "\\\\" };
  const n = named[c];
  if (n !== undefined) return `'${n}'`;
  if (c < 0x20 || c === 0x7f) return `'\\x${c.toString(16).padStart(2, "0")}'`;
  if (c >= 0x80 && c < 0xa1) return `'\\u${c.toString(16).padStart(4, "0")}'`;
  return `'${String.fromCharCode(c)}'`;
}

export function scanFirstValue(body: Buffer): JNode {
  let pos = 0;
  const eof = (): never => {
    throw new JsonSyntaxError("unexpected EOF");
  };
  const bad = (c: number, context: string): never => {
    throw new JsonSyntaxError(`invalid character ${quoteChar(c)} ${context}`);
  };
  const skipWs = () => {
    while (pos < body.length && WS.has(body[pos] ?? 0)) pos++;
  };
  const peek = (): number => {
    if (pos >= body.length) eof();
    return body[pos] ?? 0;
  };

  const literal = (word: string, node: JNode): JNode => {
    for (let i = 0; i < word.length; i++) {
      const c = peek();
      if (c !== word.charCodeAt(i)) bad(c, `in literal ${word} (expecting '${word[i]}')`);
      pos++;
    }
    return node;
  };

  const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
  const number = (): JNode => {
    const start = pos;
    if (body[pos] === 0x2d) {
      pos++;
      const c = peek();
      if (!isDigit(c)) bad(c, "in numeric literal");
    }
    if (body[pos] === 0x30) pos++;
    else while (pos < body.length && isDigit(body[pos] ?? 0)) pos++;
    if (pos < body.length && body[pos] === 0x2e) {
      pos++;
      const c = peek();
      if (!isDigit(c)) bad(c, "after decimal point in numeric literal");
      while (pos < body.length && isDigit(body[pos] ?? 0)) pos++;
    }
    if (pos < body.length && (body[pos] === 0x65 || body[pos] === 0x45)) {
      pos++;
      let c = peek();
      if (c === 0x2b || c === 0x2d) {
        pos++;
        c = peek();
      }
      if (!isDigit(c)) bad(c, "in exponent of numeric literal");
      while (pos < body.length && isDigit(body[pos] ?? 0)) pos++;
    }
    return { k: "num", raw: body.toString("latin1", start, pos) };
  };

  const string = (): string => {
    const start = pos;
    pos++;
    for (;;) {
      const c = peek();
      if (c === 0x22) break;
      if (c === 0x5c) {
        pos++;
        const e = peek();
        if (e === 0x75) {
          for (let i = 0; i < 4; i++) {
            pos++;
            const h = peek();
            if (!/[0-9a-fA-F]/.test(String.fromCharCode(h))) bad(h, "in \\u hexadecimal character escape");
          }
        } else if (!'"\\/bfnrt'.includes(String.fromCharCode(e))) bad(e, "in string escape code");
      } else if (c < 0x20) bad(c, "in string literal");
      pos++;
    }
    pos++;
    return JSON.parse(body.toString("utf8", start, pos)) as string;
  };

  const value = (): JNode => {
    skipWs();
    const c = peek();
    if (c === 0x7b) return object();
    if (c === 0x5b) return array();
    if (c === 0x22) return { k: "str", v: string() };
    if (c === 0x2d || isDigit(c)) return number();
    if (c === 0x74) return literal("true", { k: "bool", v: true });
    if (c === 0x66) return literal("false", { k: "bool", v: false });
    if (c === 0x6e) return literal("null", { k: "null" });
    return bad(c, "looking for beginning of value");
  };

  const object = (): JNode => {
    pos++;
    const entries: Array<[string, JNode]> = [];
    skipWs();
    if (peek() === 0x7d) {
      pos++;
      return { k: "obj", entries };
    }
    for (;;) {
      skipWs();
      const c = peek();
      if (c !== 0x22) bad(c, "looking for beginning of object key string");
      const key = string();
      skipWs();
      const colon = peek();
      if (colon !== 0x3a) bad(colon, "after object key");
      pos++;
      entries.push([key, value()]);
      skipWs();
      const next = peek();
      pos++;
      if (next === 0x7d) return { k: "obj", entries };
      if (next !== 0x2c) bad(next, "after object key:value pair");
    }
  };

  const array = (): JNode => {
    pos++;
    const items: JNode[] = [];
    skipWs();
    if (peek() === 0x5d) {
      pos++;
      return { k: "arr", items };
    }
    for (;;) {
      items.push(value());
      skipWs();
      const next = peek();
      pos++;
      if (next === 0x5d) return { k: "arr", items };
      if (next !== 0x2c) bad(next, "after array element");
    }
  };

  skipWs();
  if (pos >= body.length) throw new JsonSyntaxError("EOF");
  return value();
}
