// Times the quiet floor's processes share: each process's performance.now() counts from its own
// start, but all of them read the machine's monotonic clock (CLOCK_MONOTONIC, as process.hrtime
// does), so a moment taken in one process can be set against a moment taken in another.

/** The header by which the floor's publisher tells its workers when it published (monotonic ms). */
export const SENT_HEADER = "Bench-Floor-Sent-Ms";

/** Now, in milliseconds of the machine's monotonic clock. */
export const monotonicMs = () => Number(process.hrtime.bigint()) / 1e6;

/** Turns a monotonic moment (from any process) into this process's performance.now() scale. */
export function fromMonotonic(): (monotonic: number) => number {
  const offset = monotonicMs() - performance.now();
  return (monotonic) => monotonic - offset;
}
