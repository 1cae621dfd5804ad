// BENCH_QUICK=1: every item with a few rounds and events, to see that the bench runs and reports
// (its spreads, its floor checks) in a minute or two. Its figures are not to be quoted.
export const QUICK = process.env.BENCH_QUICK === "1";

/** `full` in a real run, `short` under BENCH_QUICK=1. */
export const quick = <T>(full: T, short: T): T => (QUICK ? short : full);
