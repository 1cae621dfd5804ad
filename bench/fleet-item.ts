// Item: a fleet of 1,000 simulated nodes × 50 containers (bench/fleet.ts) against two compiled
// handlers, with its own nats-server and agent stand-in (the figures are the fleet's alone); or, the
// same fleet on three clustered nats-servers with BERTH_REPLICAS=3 (`fleet-cluster`). Each
// handler runs under the memory limit compose.yaml gives it (128 MiB, a cgroup of its own, root
// only; started by the image's entry script, which sizes the heap from it): the populate's backlog
// of 50,000 starts must pass without an OOM kill.
import { startNatsServer } from "../test/harness/nats.ts";
import { startNatsCluster } from "../test/harness/nats-cluster.ts";
import { canLimitMemory } from "../test/harness/memory-cgroup.ts";
import { startHandlers, startLimitedHandlers, stopAll } from "./children.ts";
import { startFastAgent } from "./fast-agent.ts";
import { fleetAgents, runFleet, type FleetOptions } from "./fleet.ts";

/** BENCH_FLEET_NODES shrinks it (e.g. to try a change quickly). */
const FLEET: FleetOptions = {
  prefix: "bfleet",
  nodes: Number(process.env.BENCH_FLEET_NODES ?? 1_000),
  containersPerNode: 50,
  churnPerSecond: 200,
  churnSeconds: 60,
  snapshotEverySeconds: 60,
  driftPerNode: 1,
};

export const FLEET_TARGETS = { p99_ms: 50, reconcile_round_s: 10, handler_rss_mb: 150, min_share: 1 / 3 } as const;
/** compose.yaml's mem_limit for a handler; BENCH_FLEET_MEMORY_LIMIT_MIB=0 runs without a limit. */
const HANDLER_LIMIT_MIB = Number(process.env.BENCH_FLEET_MEMORY_LIMIT_MIB ?? 128);

/** One nats-server, or three clustered; either with its URL, its servers' pids and how to stop it. */
async function natsFor(cluster: boolean) {
  if (!cluster) {
    const one = await startNatsServer();
    return { url: one.url, pids: () => [one.pid], stop: () => one.stop(), replicas: {} };
  }
  const three = await startNatsCluster(3);
  return { url: three.url, pids: () => three.pids(), stop: () => three.stop(), replicas: { BERTH_REPLICAS: "3" } };
}

export async function measureFleet(cluster = false) {
  const nats = await natsFor(cluster);
  const agent = await startFastAgent();
  const env = {
    NATS_URL: nats.url,
    BERTH_PREFIX: FLEET.prefix,
    BERTH_CONSUL_AGENTS: fleetAgents(FLEET.nodes, agent.url),
    ...nats.replicas,
  };
  const limitMib = HANDLER_LIMIT_MIB > 0 && canLimitMemory() ? HANDLER_LIMIT_MIB : undefined;
  const { handlers, cgroups } = limitMib
    ? await startLimitedHandlers(2, env, limitMib)
    : { handlers: await startHandlers(2, env), cgroups: [] };
  try {
    const appliedBy = () => handlers.map((h) => h.logs.filter((l) => l.msg === "applied" || l.msg === "reconciled").length);
    const report = await runFleet(
      nats.url,
      agent,
      { handlerPids: handlers.map((h) => h.pid), natsPids: nats.pids(), appliedBy },
      FLEET,
      (text) => {
        process.stderr.write(`bench: ${text}\n`);
      },
    );
    const t = FLEET_TARGETS;
    return {
      ...report,
      nats_servers: cluster ? 3 : 1,
      handler_memory_limit_mib: limitMib ?? null,
      handler_oom_kills: cgroups.map((c) => c.oomKills()),
      targets: t,
      met: {
        p99: report.start_to_registered_ms.p99 <= t.p99_ms,
        reconcile_round: report.reconcile_round_s <= t.reconcile_round_s,
        handler_rss: report.handler_peak_rss_mb.every((mb) => mb <= t.handler_rss_mb),
        shared: report.work_share.every((s) => s >= t.min_share),
      },
    };
  } finally {
    const killed = cgroups.map((c) => c.oomKills());
    if (killed.some((n) => n > 0)) process.stderr.write(`bench: fleet: OOM kills in the handlers' cgroups: ${killed.join(", ")}\n`);
    await stopAll(handlers);
    await agent.close();
    await nats.stop();
  }
}
