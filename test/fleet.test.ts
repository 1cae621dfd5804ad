// A fleet at a size that fits CI (bench/fleet.ts; `npm run bench` runs it at 1,000 nodes): 100
// simulated nodes × 10 containers, steady churn with every node's snapshot on its period, then a
// reconcile round with a lost service on every node; two handler processes share the work.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { startFastAgent } from "../bench/fast-agent.ts";
import { fleetAgents, runFleet } from "../bench/fleet.ts";
import { startBerth } from "./berth-process.ts";
import { cleanupAll } from "./harness/cleanup.ts";
import { canStartNatsServer, startNatsServer } from "./harness/nats.ts";
import { requireOrSkip } from "./harness/prereq.ts";

after(cleanupAll);

test("fleet - 100 nodes × 10 containers under churn and snapshots: every agent equals its node, a round of lost services is reconciled, two handlers share the work", async (t) => {
  if (!requireOrSkip(t, "nats-server", canStartNatsServer())) return;
  const nodes = 100;
  const nats = await startNatsServer();
  const agent = await startFastAgent();
  const env = { NATS_URL: nats.url, BERTH_PREFIX: "fleet", BERTH_CONSUL_AGENTS: fleetAgents(nodes, agent.url) };
  const handlers = await Promise.all([startBerth("handler", env), startBerth("handler", env)]);
  await Promise.all(handlers.map((h) => h.waitForLog((l) => l.msg === "started", "handler started")));
  const appliedBy = () => handlers.map((h) => h.logs.filter((l) => l.msg === "applied" || l.msg === "reconciled").length);
  const report = await runFleet(
    nats.url,
    agent,
    { handlerPids: handlers.map((h) => h.pid), natsPids: [nats.pid], appliedBy },
    { prefix: "fleet", nodes, containersPerNode: 10, churnPerSecond: 40, churnSeconds: 6, snapshotEverySeconds: 3, driftPerNode: 1 },
    (text) => {
      t.diagnostic(text);
    },
  );
  t.diagnostic(JSON.stringify(report));
  assert.deepEqual(report.final, { missing: 0, stale: 0 }, "every agent holds exactly its node's running containers");
  assert.equal(report.drifted, nodes, "one lost service per node, each registered again by the round of snapshots");
  assert.ok(report.snapshots_during_churn >= nodes, "every node's snapshot came during the churn");
  for (const share of report.work_share)
    assert.ok(share >= 1 / 3, `each handler did at least a third of the work: ${report.work_share.join(", ")}`);
  assert.ok(
    !handlers.some((h) => h.logs.some((l) => l.msg === "dead-lettered" || l.msg === "retrying")),
    "nothing dead-lettered or retried",
  );
});
