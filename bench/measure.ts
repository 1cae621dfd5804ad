// Small measuring helpers: percentiles, rates and the peak RSS of a child process.
import { readFileSync } from "node:fs";

/** Nearest-rank percentile (p in 0–100) of unsorted samples; NaN when there are none. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export const round = (value: number, digits = 2) => Number(value.toFixed(digits));

/** VmHWM (peak resident set) of a live process in MB, from /proc/<pid>/status; undefined once it is gone. */
export const peakRssMb = (pid: number): number | undefined => statusMb(pid, "VmHWM");

/** RSS now, in MB. */
const rssMb = (pid: number): number | undefined => statusMb(pid, "VmRSS");

function statusMb(pid: number, field: "VmHWM" | "VmRSS"): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? round(Number(match[1]) / 1024, 1) : undefined;
  } catch {
    return undefined;
  }
}

/** The highest RSS of each process, sampled every `everyMs` until stopped. */
export function sampleRss(pids: readonly number[], everyMs = 250) {
  const peaks = pids.map(() => 0);
  const sample = () => pids.forEach((pid, k) => (peaks[k] = Math.max(peaks[k]!, rssMb(pid) ?? 0)));
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop(): number[] {
      clearInterval(timer);
      sample();
      return peaks;
    },
  };
}

/**
 * Events per second between the moments `from` and `to` of the whole set had completed
 * (e.g. 10 % and 90 %), so start-up and the tail do not count: the sustained rate.
 */
export function sustainedRate(completions: readonly number[], from = 0.1, to = 0.9): number {
  const sorted = [...completions].sort((a, b) => a - b);
  const i = Math.floor(sorted.length * from);
  const j = Math.min(sorted.length - 1, Math.floor(sorted.length * to));
  const seconds = (sorted[j]! - sorted[i]!) / 1000;
  return seconds > 0 ? round((j - i) / seconds, 0) : Number.NaN;
}

/** CPU time (user + system) a live process has used so far, in ms, from /proc/<pid>/stat; 0 once gone. */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** USER_HZ: 100 on Linux for every architecture Node runs on. */
const CLOCK_TICKS = 100;

/** Runs `send(0..count-1)` with at most `window` in flight. */
export async function windowed(count: number, window: number, send: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) await send(next++);
  };
  await Promise.all(Array.from({ length: window }, lane));
}
