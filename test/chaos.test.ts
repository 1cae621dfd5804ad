// About a minute of random lifecycle operations with faults; then every agent equals Docker.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { describeReport, runChaos } from "./chaos.ts";
import { cleanupAll } from "./harness/cleanup.ts";
import { canStartDockerd } from "./harness/dockerd.ts";
import { canStartNatsServer } from "./harness/nats.ts";
import { requireOrSkip } from "./harness/prereq.ts";

after(cleanupAll);

test("chaos - 300 random operations on 3 nodes with worker kills, a NATS restart, an agent outage, an emitter restart and duplicates: 0 missing, 0 stale", async (t) => {
  if (!requireOrSkip(t, "root, dockerd and nats-server", canStartDockerd() && canStartNatsServer())) return;
  const seed = Number(process.env.BERTH_CHAOS_SEED ?? Date.now() % 100_000);
  t.diagnostic(`seed ${seed} (replay with BERTH_CHAOS_SEED=${seed})`);
  const report = await runChaos({ ops: 300, seed, log: (line) => t.diagnostic(line) });
  for (const line of describeReport(report).split("\n")) t.diagnostic(line);
  assert.deepEqual(
    report.drift.map((d) => [d.node, d.missing, d.stale]),
    report.drift.map((d) => [d.node, 0, 0]),
  );
  assert.ok(report.faults.includes("nats restart") && report.faults.includes("handler SIGKILL") && report.faults.includes("agent c2 down"));
});
