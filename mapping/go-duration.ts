// Pure: Go's time.ParseDuration, for the values berth sends as check durations. The agent decodes
// Interval, Timeout, TTL and DeregisterCriticalServiceAfter with it (agent/structs/check_type.go,
// CheckType.UnmarshalJSON) and answers 400 "Request decode failed: time: invalid duration …" for
// any text it refuses, which would dead-letter the whole container: berth checks first.

/** The most a Go time.Duration holds: 2^63-1 nanoseconds, 2562047h47m16.854775807s. */
export const MAX_GO_DURATION_NS = (1n << 63n) - 1n;

/** Nanoseconds per unit, as Go's unitMap (both spellings of micro). */
const UNITS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  "\u00b5s": 1_000n,
  "\u03bcs": 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const LIMIT = 1n << 63n;

/**
 * The nanoseconds Go's time.ParseDuration makes of `text`, or undefined where it returns an error
 * (bad syntax, an unknown unit, or more than MAX_GO_DURATION_NS). Signs are refused here: a check
 * duration is never negative. Byte for byte Go's algorithm (time/format.go), overflow rules and
 * the float64 rounding of fractions included, so a value accepted here is one the agent accepts.
 */
export function goDurationNanos(text: string): bigint | undefined {
  if (text === "0") return 0n;
  if (text === "") return undefined;
  let s = text;
  let total = 0n;
  while (s !== "") {
    if (!/^[0-9.]/.test(s)) return undefined;
    const whole = /^[0-9]*/.exec(s)![0];
    s = s.slice(whole.length);
    let v = 0n;
    // leadingInt: an error once the integer passes 2^63.
    for (const digit of whole) {
      if (v > LIMIT / 10n) return undefined;
      v = v * 10n + BigInt(digit);
      if (v > LIMIT) return undefined;
    }
    let f = 0n;
    let scale = 1;
    let fraction = false;
    if (s.startsWith(".")) {
      s = s.slice(1);
      const digits = /^[0-9]*/.exec(s)![0];
      s = s.slice(digits.length);
      fraction = digits.length > 0;
      // leadingFraction: digits past what 63 bits hold are dropped, not an error.
      let overflow = false;
      for (const digit of digits) {
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
    }
    if (whole === "" && !fraction) return undefined;
    const unitText = /^[^0-9.]*/.exec(s)![0];
    s = s.slice(unitText.length);
    const unit = UNITS[unitText];
    if (unit === undefined) return undefined; // a missing or unknown unit
    if (v > LIMIT / unit) return undefined;
    v *= unit;
    if (f > 0n) {
      // float64 arithmetic, as Go does: uint64(float64(f) * (float64(unit) / scale)).
      v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
      if (v > LIMIT) return undefined;
    }
    total += v;
    if (total > LIMIT) return undefined;
  }
  return total > MAX_GO_DURATION_NS ? undefined : total;
}
