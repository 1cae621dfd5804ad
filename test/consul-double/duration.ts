// Go time.Duration parsing and formatting, byte-for-byte with Go's `time` package
// (ParseDuration errors and Duration.String()). Values are nanoseconds.

const UNITS: Record<string, number> = { ns: 1, us: 1e3, "\u00b5s": 1e3, "\u03bcs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

const MAX_NS = 2 ** 63;

/** Go's time.quote: double quotes, with non-ASCII and control bytes as \xNN. */
function timeQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    if (code >= 0x80 || code < 0x20) {
      for (const b of Buffer.from(ch, "utf8")) out += "\\x" + b.toString(16).padStart(2, "0");
    } else {
      if (ch === '"' || ch === "\\") out += "\\";
      out += ch;
    }
  }
  return out + '"';
}

export class DurationError extends Error {
  override name = "DurationError";
}

/** time.ParseDuration. Throws DurationError with Go's exact message. */
export function parseGoDuration(orig: string): number {
  const invalid = () => new DurationError("time: invalid duration " + timeQuote(orig));
  let s = orig;
  let neg = false;
  if (s !== "" && (s[0] === "-" || s[0] === "+")) {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") throw invalid();
  let total = 0;
  while (s !== "") {
    const c0 = s[0] ?? "";
    if (!(c0 === "." || (c0 >= "0" && c0 <= "9"))) throw invalid();
    const intMatch = /^[0-9]*/.exec(s)?.[0] ?? "";
    s = s.slice(intMatch.length);
    let frac = "";
    let post = false;
    if (s[0] === ".") {
      s = s.slice(1);
      frac = /^[0-9]*/.exec(s)?.[0] ?? "";
      s = s.slice(frac.length);
      post = frac.length > 0;
    }
    if (intMatch.length === 0 && !post) throw invalid();
    let i = 0;
    while (i < s.length && !(s[i] === "." || ((s[i] ?? "") >= "0" && (s[i] ?? "") <= "9"))) i++;
    if (i === 0) throw new DurationError("time: missing unit in duration " + timeQuote(orig));
    const unitName = s.slice(0, i);
    s = s.slice(i);
    const unit = UNITS[unitName];
    if (unit === undefined) {
      throw new DurationError("time: unknown unit " + timeQuote(unitName) + " in duration " + timeQuote(orig));
    }
    const v = intMatch === "" ? 0 : Number(intMatch);
    if (!Number.isFinite(v) || v > MAX_NS / unit) throw invalid();
    let part = v * unit;
    if (frac !== "") part += Math.trunc(Number("0." + frac) * unit);
    total += part;
    if (total > MAX_NS) throw invalid();
  }
  return neg ? -total : total;
}

function fmtFrac(v: number, prec: number): { text: string; rest: number } {
  let digits = "";
  let print = false;
  for (let i = 0; i < prec; i++) {
    const digit = v % 10;
    print = print || digit !== 0;
    if (print) digits = String(digit) + digits;
    v = Math.floor(v / 10);
  }
  return { text: print ? "." + digits : "", rest: v };
}

/** time.Duration.String(): 0 → "0s", 60s → "1m0s", 1.5s → "1.5s", 250ms → "250ms". */
export function formatGoDuration(ns: number): string {
  if (ns === 0) return "0s";
  const neg = ns < 0;
  let u = Math.abs(Math.trunc(ns));
  let out: string;
  if (u < 1e9) {
    if (u < 1e3) out = `${u}ns`;
    else if (u < 1e6) {
      const f = fmtFrac(u, 3);
      out = `${f.rest}${f.text}\u00b5s`;
    } else {
      const f = fmtFrac(u, 6);
      out = `${f.rest}${f.text}ms`;
    }
  } else {
    const f = fmtFrac(u, 9);
    u = f.rest;
    out = `${u % 60}${f.text}s`;
    u = Math.floor(u / 60);
    if (u > 0) {
      out = `${u % 60}m` + out;
      u = Math.floor(u / 60);
      if (u > 0) out = `${u}h` + out;
    }
  }
  return neg ? "-" + out : out;
}
