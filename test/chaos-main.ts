// `npm run chaos -- --ops 5000 [--seed N]`: the chaos run, longer, outside `npm test`.
import { parseArgs } from "node:util";
import { describeReport, runChaos } from "./chaos.ts";
import { cleanupAll } from "./harness/cleanup.ts";

const { values } = parseArgs({ options: { ops: { type: "string", default: "1000" }, seed: { type: "string" } } });
const ops = Number(values.ops);
const seed = Number(values.seed ?? Date.now() % 100_000);
if (!Number.isInteger(ops) || ops < 1) throw new Error(`--ops must be a positive integer, not ${values.ops}`);
console.log(`chaos: seed ${seed}`);
try {
  const report = await runChaos({ ops, seed, log: (line) => console.log(line) });
  console.log(describeReport(report));
  process.exitCode = report.drift.every((d) => d.missing === 0 && d.stale === 0) ? 0 : 1;
} finally {
  await cleanupAll();
}
