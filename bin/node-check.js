// The first thing a clone's entry points run (bin/berth.js, so `berth …` and `npm run
// emitter|handler`; `npm ci`'s preinstall): on a Node older than package.json's `engines`, one
// line says which Node berth needs and which it found, and the process exits 1. Plain JavaScript
// that any Node parses — berth's TypeScript sources need Node 26's type stripping, and an older
// Node would only say ERR_UNKNOWN_FILE_EXTENSION.
import { readFileSync } from "node:fs";

/** `>=26.10` → [26, 10, 0]; engines in any other form are refused, so that the check never passes by mistake. */
export function minimumOf(range) {
  const match = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(range.trim());
  if (!match) throw new Error(`package.json engines.node must read ">=X.Y.Z", not "${range}"`);
  return [Number(match[1]), Number(match[2] ?? 0), Number(match[3] ?? 0)];
}

/** The line to print when Node `found` (process.versions.node) is older than `range`, else undefined. */
export function nodeProblem(found, range, execPath = "node", advice = "") {
  const have = found.split(".").map(Number);
  const want = minimumOf(range);
  for (let i = 0; i < 3; i++) {
    if ((have[i] ?? 0) > want[i]) return undefined;
    if ((have[i] ?? 0) < want[i]) return `berth needs Node ${range}, found Node ${found} (${execPath})${advice}`;
  }
  return undefined;
}

const read = (name) => readFileSync(new URL(`../${name}`, import.meta.url), "utf8");
const { engines } = JSON.parse(read("package.json"));
let advice = "";
try {
  advice = `: install Node ${read(".nvmrc").trim()} (.nvmrc), see README`;
} catch {
  // a copy without .nvmrc: the line still names both versions
}
const problem = nodeProblem(process.versions.node, engines.node, process.execPath, advice);
if (problem !== undefined) {
  process.stderr.write(`${problem}\n`);
  process.exit(1);
}
