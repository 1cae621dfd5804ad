// Go time.Duration parsing and formatting, byte-for-byte with Go's `time` package
// (ParseDuration errors and Duration.String()). Values are nanoseconds.

const UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  "\u00b5s": 1_000n,
  "\u03bcs": 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/** 1<<63: Go's bound in ParseDuration's uint64 arithmetic (time/format.go); a Duration holds 1<<63 - 1. */
const LIMIT = 1n << 63n;

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

/**
 * time.ParseDuration, in Go's own integer arithmetic (uint64, overflow bounds, the float64 rounding
 * of fractions), so the bound is exact: 2562047h47m16.854775807s parses, one nanosecond more is
 * "time: invalid duration". Throws DurationError with Go's exact message. The result is nanoseconds
 * as a number (exact up to 2^53; only the timers and formatting use it).
 */
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
  let total = 0n;
  while (s !== "") {
    const c0 = s[0] ?? "";
    if (!(c0 === "." || (c0 >= "0" && c0 <= "9"))) throw invalid();
    const intMatch = /^[0-9]*/.exec(s)?.[0] ?? "";
    s = s.slice(intMatch.length);
    // leadingInt: an error once the integer passes 1<<63.
    let v = 0n;
    for (const digit of intMatch) {
      if (v > LIMIT / 10n) throw invalid();
      v = v * 10n + BigInt(digit);
      if (v > LIMIT) throw invalid();
    }
    let frac = "";
    let post = false;
    if (s[0] === ".") {
      s = s.slice(1);
      frac = /^[0-9]*/.exec(s)?.[0] ?? "";
      s = s.slice(frac.length);
      post = frac.length > 0;
    }
    if (intMatch.length === 0 && !post) throw invalid();
    // leadingFraction: digits past what 63 bits hold are dropped.
    let f = 0n;
    let scale = 1;
    let overflow = false;
    for (const digit of frac) {
      if (overflow) continue;
      if (f > (LIMIT - 1n) / 10n) {
        overflow = true;
        continue;
      }
      const y = f * 10n + BigInt(digit);
      if (y > LIMIT) {
        overflow = true;
        continue;
      }
      f = y;
      scale *= 10;
    }
    let i = 0;
    while (i < s.length && !(s[i] === "." || ((s[i] ?? "") >= "0" && (s[i] ?? "") <= "9"))) i++;
    if (i === 0) throw new DurationError("time: missing unit in duration " + timeQuote(orig));
    const unitName = s.slice(0, i);
    s = s.slice(i);
    const unit = UNITS[unitName];
    if (unit === undefined) {
      throw new DurationError("time: unknown unit " + timeQuote(unitName) + " in duration " + timeQuote(orig));
    }
    if (v > LIMIT / unit) throw invalid();
    v *= unit;
    if (f > 0n) {
      v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
      if (v > LIMIT) throw invalid();
    }
    total += v;
    if (total > LIMIT) throw invalid();
  }
  if (neg) return -Number(total);
  if (total > LIMIT - 1n) throw invalid();
  return Number(total);
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
