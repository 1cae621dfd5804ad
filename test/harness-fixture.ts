// Shared by test/harness-*.test.ts: whether a private dockerd and a nats-server can be started here;
// when not, the test is skipped locally and FAILED under CI=true (see test/harness/prereq.ts).
import type { TestContext } from "node:test";
import { missingForDockerd } from "./harness/dockerd.ts";
import { canStartNatsServer } from "./harness/nats.ts";
import { requireOrSkip } from "./harness/prereq.ts";

export const dockerReady = (t: TestContext) => {
  const missing = missingForDockerd();
  return requireOrSkip(t, `a private dockerd needs ${missing.join(", ")}`, missing.length === 0);
};
export const natsReady = (t: TestContext) => requireOrSkip(t, "nats-server binary", canStartNatsServer());
