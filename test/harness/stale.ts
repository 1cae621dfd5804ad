// Leftovers of a test process that was SIGKILLed (no exit hook ran): every temp dir the harness
// makes holds an owner.json naming the owning process (PID + start time, so a reused PID does
// not count) and what to tear down. The next harness start sweeps dirs whose owner is gone.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startTimeOf } from "./proc-scan.ts";

export type Claim = { kind: string; owner: { pid: number; start: string }; [key: string]: unknown };

const OWNER_FILE = "owner.json";

/** Writes (or rewrites) `<dir>/owner.json` for this process with `data`. */
export function claimDir(dir: string, kind: string, data: Record<string, unknown> = {}): void {
  const claim: Claim = { ...data, kind, owner: { pid: process.pid, start: startTimeOf(process.pid) ?? "" } };
  writeFileSync(join(dir, OWNER_FILE), JSON.stringify(claim));
}

/** Calls `sweep(dir, claim)` for every /tmp/berth-* dir of `kind` whose owner process is gone. */
export function sweepStale(kind: string, sweep: (dir: string, claim: Claim) => void): string[] {
  const swept: string[] = [];
  for (const name of readdirSync("/tmp").filter((n) => n.startsWith("berth-"))) {
    const dir = join("/tmp", name);
    const claim = readClaim(dir);
    if (claim?.kind !== kind || startTimeOf(claim.owner.pid) === claim.owner.start) continue;
    try {
      sweep(dir, claim);
      swept.push(dir);
    } catch {
      // best effort; the next start tries again
    }
  }
  return swept;
}

function readClaim(dir: string): Claim | undefined {
  try {
    // Whatever the file holds is checked before it is taken for a claim.
    const claim = JSON.parse(readFileSync(join(dir, OWNER_FILE), "utf8")) as Partial<Claim>;
    return typeof claim.kind === "string" && typeof claim.owner?.pid === "number" ? (claim as Claim) : undefined;
  } catch {
    return undefined;
  }
}
