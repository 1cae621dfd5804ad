// The one rule for missing integration prerequisites (root, dockerd, nats-server …):
// locally the test is skipped with a clear reason; with CI=true it FAILS, so a CI box that
// silently lacks a prerequisite cannot turn the integration suite green by skipping it.
//
//   test("e2e - …", async (t) => {
//     if (!requireOrSkip(t, "root and dockerd (to start a private Docker engine)", canStartDockerd())) return;
//     …
//   });
import type { TestContext } from "node:test";

export function isCI(): boolean {
  return process.env.CI === "true";
}

/** Returns true when `ok`; otherwise skips `t` (returns false) or, under CI=true, throws. */
export function requireOrSkip(t: TestContext, what: string, ok: boolean): boolean {
  if (ok) return true;
  const reason = `missing prerequisite: ${what}`;
  if (isCI()) throw new Error(`${reason} (CI=true: integration prerequisites are mandatory)`);
  t.skip(reason);
  return false;
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}
