// Tests of the integration-test harness itself: waitFor (the first truthy value; a timeout naming
// what it waited for and the last error) and requireOrSkip (skips locally, fails under CI=true).
import assert from "node:assert/strict";
import { after, test } from "node:test";
import type { TestContext } from "node:test";
import { cleanupAll } from "./harness/cleanup.ts";
import { requireOrSkip } from "./harness/prereq.ts";
import { waitFor } from "./harness/wait.ts";

after(cleanupAll);

test("harness wait - resolves with the first truthy value", async () => {
  let n = 0;
  assert.equal(await waitFor(() => ++n >= 3 && n, { intervalMs: 1 }), 3);
});

test("harness wait - times out naming what and the last error", async () => {
  await assert.rejects(
    waitFor(
      () => {
        throw new Error("boom");
      },
      { timeoutMs: 60, what: "the thing" },
    ),
    /waiting for the thing; last error: Error: boom/,
  );
  await assert.rejects(
    waitFor(() => new Promise<false>(() => {}), { timeoutMs: 50, what: "a hang" }),
    /a hang; probe never completed/,
  );
});

test("harness prereq - skips locally, fails under CI=true", () => {
  const skipped: string[] = [];
  const t = { skip: (why: string) => void skipped.push(why) } as unknown as TestContext;
  const ci = process.env.CI;
  try {
    process.env.CI = "false";
    assert.equal(requireOrSkip(t, "a unicorn", false), false);
    assert.deepEqual(skipped, ["missing prerequisite: a unicorn"]);
    process.env.CI = "true";
    assert.throws(() => requireOrSkip(t, "a unicorn", false), /missing prerequisite: a unicorn \(CI=true/);
    assert.equal(requireOrSkip(t, "a unicorn", true), true);
  } finally {
    if (ci === undefined) delete process.env.CI;
    else process.env.CI = ci;
  }
});
