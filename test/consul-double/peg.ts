// A small PEG cursor with pigeon-style error reporting: every failed match records what
// was expected at its position, and only the farthest position is reported.

export function createCursor(src: string) {
  let maxPos = 0;
  let expected = new Set<string>();
  const errs: string[] = [];
  const where = (at: number) => {
    const before = src.slice(0, at);
    const line = before.split("\n").length;
    // eslint-disable-next-line @typescript-eslint/no-misused-spread -- pigeon counts columns in runes: code points are what is wanted here
    const col = [...before.slice(before.lastIndexOf("\n") + 1)].length + 1;
    return `${line}:${col} (${Buffer.byteLength(before)})`;
  };
  const c = {
    pos: 0,
    fail: (want: string): void => {
      if (c.pos < maxPos) return;
      if (c.pos > maxPos) {
        maxPos = c.pos;
        expected = new Set();
      }
      expected.add(want);
    },
    /** An error raised by a grammar predicate (`&{ ... }`) or action. */
    ruleError: (rule: string, msg: string): void => {
      errs.push(`${where(c.pos)}: rule ${rule}: ${msg}`);
    },
    /** Runs `fn`; on failure (null) rewinds to where it started. */
    attempt: <T>(fn: () => T | null): T | null => {
      const start = c.pos;
      const r = fn();
      if (r === null) c.pos = start;
      return r;
    },
    lit: (s: string): boolean => {
      if (src.startsWith(s, c.pos)) {
        c.pos += s.length;
        return true;
      }
      c.fail(JSON.stringify(s));
      return false;
    },
    cls: (re: RegExp, label: string): boolean => {
      const ch = src[c.pos];
      if (ch !== undefined && re.test(ch)) {
        c.pos++;
        return true;
      }
      c.fail(label);
      return false;
    },
    ws: (): boolean => {
      if (!c.cls(/[ \t\r\n]/, "[ \\t\\r\\n]")) return false;
      while (c.cls(/[ \t\r\n]/, "[ \\t\\r\\n]"));
      return true;
    },
    eof: (): boolean => {
      if (c.pos >= src.length) return true;
      c.fail("EOF");
      return false;
    },
    /** The parse error text: predicate errors first, else the farthest failure (EOF last). */
    error: (ok: boolean): string | undefined => {
      if (errs.length > 0) return [...new Set(errs)].join("\n");
      if (ok) return undefined;
      const list = [...expected].filter((e) => e !== "EOF").sort();
      if (expected.has("EOF")) list.push("EOF");
      const text = list.length > 1 ? `${list.slice(0, -1).join(", ")} or ${list[list.length - 1]}` : (list[0] ?? "");
      return `${where(maxPos)}: no match found, expected: ${text}`;
    },
  };
  return c;
}
