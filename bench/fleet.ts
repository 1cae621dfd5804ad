// A fleet of simulated nodes against berth's real handlers: one process publishes every node's
// events and snapshots (berth's own event builders, JetStream publishes with message IDs, as the
// emitters do) and bench/fast-agent.ts answers for every node's agent. Used at full size by
// `npm run bench` (1,000 nodes × 50 containers, 200 events/s) and at a small one by test/fleet.test.ts.
//
// Phases: populate (every container started, each node's snapshot), churn (starts and stops at a
// steady rate across the fleet, each node's snapshot every `snapshotEverySeconds`), and a
// reconcile round (the agent loses `driftPerNode` services of every node, then every node's
// snapshot at once). The caller starts the handlers with `fleetAgents(...)` as their agents.
import { createHash } from "node:crypto";
import { connectBus, ensureJetStream, publishDurable, type Bus } from "../common/nats/index.ts";
import { jetstreamManager } from "../common/nats/sdk.ts";
import { streamNames, subjectFor, toContainerEvent, toNodeSnapshot, type BerthEvent, type Container } from "../schemas/index.ts";
import { registerCleanup } from "../test/harness/cleanup.ts";
import { waitFor } from "../test/harness/wait.ts";
import type { FastAgent } from "./fast-agent.ts";
import { cpuMs, percentile, peakRssMb, round, sampleRss, windowed } from "./measure.ts";

export type FleetOptions = {
  prefix: string;
  nodes: number;
  containersPerNode: number;
  /** Container events per second across the fleet during the churn: half starts, half stops. */
  churnPerSecond: number;
  churnSeconds: number;
  snapshotEverySeconds: number;
  driftPerNode: number;
};

export type FleetReport = {
  nodes: number;
  services: number;
  populate_s: number;
  churn_events: number;
  start_to_registered_ms: { p50: number; p99: number; max: number };
  stop_to_removed_ms: { p50: number; p99: number };
  handler_cpu_us_per_event: number;
  nats_server_cpu_us_per_event: number;
  snapshots_during_churn: number;
  reconcile_round_s: number;
  drifted: number;
  state_bucket: { keys: number; bytes: number };
  /** Over the whole run, the populate's backlog of 50,000 starts included. */
  handler_peak_rss_mb: number[];
  nats_server_peak_rss_mb: number | undefined;
  /** The highest RSS sampled during the churn and the reconcile round: the fleet at work. */
  handler_rss_under_churn_mb: number[];
  nats_server_rss_under_churn_mb: number;
  /** Of the events and snapshots the handlers applied, each handler's share. */
  work_share: number[];
  /** At the end, over every node: services the agent lacks, and services of no running container. */
  final: { missing: number; stale: number };
};

export const nodeName = (i: number) => `f${String(i).padStart(4, "0")}`;
const idOf = (prefix: string, node: number, serial: number) => createHash("sha256").update(`${prefix}/${node}/${serial}`).digest("hex");

/** BERTH_CONSUL_AGENTS for the handlers: every node's agent is the one stand-in. */
export function fleetAgents(nodes: number, agentUrl: string): string {
  return Array.from({ length: nodes }, (_, i) => `${nodeName(i)}=${agentUrl}`).join(",");
}

/** The fleet's container number `serial`: one published port, a SERVICE_NAME shared by every 50th. */
export function containerOf(id: string, serial: number): Container {
  return {
    id,
    name: `svc-${serial}`,
    image: "fleet/app:1",
    networkMode: "bridge",
    ports: [{ containerPort: 8080, protocol: "tcp", hostIp: "0.0.0.0", hostPort: 20_000 + (serial % 40_000) }],
    exposedPorts: [{ containerPort: 8080, protocol: "tcp" }],
    env: { SERVICE_NAME: `app-${serial % 50}` },
    labels: {},
  };
}

/** Now in nanoseconds, unique and rising within this process (so every event ID differs). */
function clock() {
  let last = 0n;
  return () => {
    const now = BigInt(Date.now()) * 1_000_000n;
    last = now > last ? now : last + 1n;
    return last;
  };
}

/** `natsPids`: one nats-server, or each of a cluster's (their CPU is summed, their RSS the largest). */
export type FleetProcesses = { handlerPids: number[]; natsPids: number[]; appliedBy: () => number[] };

export async function runFleet(
  natsUrl: string,
  agent: FastAgent,
  processes: FleetProcesses,
  o: FleetOptions,
  say: (text: string) => void,
): Promise<FleetReport> {
  const bus: Bus = await connectBus({ NATS_URL: natsUrl, BERTH_PREFIX: o.prefix }, "fleet-publisher");
  // Closed, not drained: on a failure the nats-server may be gone first.
  registerCleanup("fleet publisher", () => bus.nc.close());
  await ensureJetStream(bus);
  const now = clock();
  const running = Array.from({ length: o.nodes }, () => new Map<string, Container>());
  let serial = 0;
  const publish = (e: BerthEvent) =>
    publishDurable(bus, subjectFor(o.prefix, e), new TextEncoder().encode(JSON.stringify(e)), e.id).then(() => undefined);
  const node = (i: number) => ({ name: nodeName(i), hostIp: "10.1.0.1" });
  const start = (i: number) => {
    const id = idOf(o.prefix, i, serial);
    const container = containerOf(id, serial++);
    running[i]!.set(id, container);
    return toContainerEvent("io.berth.container.started", node(i), now(), container);
  };
  const stop = (i: number, id: string) => {
    const { name } = running[i]!.get(id)!;
    running[i]!.delete(id);
    return toContainerEvent("io.berth.container.stopped", node(i), now(), { id, name, exitCode: 0 });
  };
  const snapshot = (i: number) => toNodeSnapshot(node(i), now(), [...running[i]!.keys()]);
  const total = () => running.reduce((sum, r) => sum + r.size, 0);

  say(`fleet: populating ${o.nodes} nodes × ${o.containersPerNode} containers`);
  const populating = performance.now();
  const starts = Array.from({ length: o.nodes * o.containersPerNode }, (_, k) => start(k % o.nodes));
  await windowed(starts.length, 256, (k) => publish(starts[k]!));
  await windowed(o.nodes, 64, (i) => publish(snapshot(i)));
  // Every start applied and every node's first snapshot reconciled: the churn is timed from a fleet at rest.
  const handled = () => processes.appliedBy().reduce((a, b) => a + b, 0);
  await waitFor(() => agent.registeredAt.size >= starts.length && handled() >= starts.length + o.nodes, {
    what: "the fleet registered and reconciled",
    timeoutMs: 600_000,
    intervalMs: 200,
  });
  const populate = (performance.now() - populating) / 1000;

  say(`fleet: churn of ${o.churnPerSecond} events/s for ${o.churnSeconds} s, each node's snapshot every ${o.snapshotEverySeconds} s`);
  agent.resetRecords();
  const startedAt = new Map<string, number>();
  const stoppedAt = new Map<string, number>();
  const natsCpuMs = () => processes.natsPids.reduce((sum, pid) => sum + cpuMs(pid), 0);
  const cpu0 = { handlers: processes.handlerPids.map(cpuMs), nats: natsCpuMs(), applied: processes.appliedBy() };
  // From here on the fleet is at rest but for the churn and the snapshots (the peaks before include the populate's backlog).
  const rss = sampleRss([...processes.handlerPids, ...processes.natsPids]);
  const random = (n: number) => Math.floor(Math.random() * n);
  const tickMs = 50;
  const ticks = Math.round((o.churnSeconds * 1000) / tickMs);
  const perTick = (o.churnPerSecond * tickMs) / 1000;
  const pending: Promise<void>[] = [];
  let owed = 0;
  let snapshots = 0;
  const began = performance.now();
  for (let tick = 0; tick < ticks; tick++) {
    // Paced by the clock (a steady load), not waiting on what the handlers do.
    const due = began + tick * tickMs;
    if (performance.now() < due) await new Promise((resolve) => setTimeout(resolve, due - performance.now()));
    for (owed += perTick; owed >= 1; owed--) {
      const i = random(o.nodes);
      // Only a container the agent already holds is stopped: each churned one has a start to time.
      const ids = [...running[i]!.keys()].filter((id) => !startedAt.has(id) || agent.registeredAt.has(id));
      const e = (tick + Math.floor(owed)) % 2 === 0 || ids.length === 0 ? start(i) : stop(i, ids[random(ids.length)]!);
      (e.type === "io.berth.container.started" ? startedAt : stoppedAt).set(e.subject, performance.now());
      pending.push(publish(e));
    }
    // Node i's snapshots fall on its own offset within each period: the fleet's are spread evenly.
    const period = Math.round((o.snapshotEverySeconds * 1000) / tickMs);
    for (let i = tick % period; i < o.nodes; i += period) {
      pending.push(publish(snapshot(i)));
      snapshots++;
    }
  }
  await Promise.all(pending);
  await waitFor(
    () => [...startedAt.keys()].every((id) => agent.registeredAt.has(id)) && [...stoppedAt.keys()].every((id) => agent.goneAt.has(id)),
    { what: "every churned container registered or removed", timeoutMs: 120_000, intervalMs: 100 },
  );
  const churnEvents = startedAt.size + stoppedAt.size;
  const applied = processes.appliedBy().map((n, k) => n - cpu0.applied[k]!);
  const handlerCpu = processes.handlerPids.reduce((sum, pid, k) => sum + cpuMs(pid) - cpu0.handlers[k]!, 0);
  const natsCpu = natsCpuMs() - cpu0.nats;
  const startLag = [...startedAt].map(([id, t]) => agent.registeredAt.get(id)! - t);
  const stopLag = [...stoppedAt].map(([id, t]) => agent.goneAt.get(id)! - t);

  say(`fleet: reconcile round, ${o.driftPerNode} service(s) of every node lost by the agent`);
  agent.resetRecords();
  const lost: string[] = [];
  for (let i = 0; i < o.nodes; i++) {
    for (const s of agent.ownedBy(nodeName(i)).slice(0, o.driftPerNode)) {
      agent.forget(s.ID);
      lost.push(s.Meta["berth_container"]!);
    }
  }
  const round0 = performance.now();
  await windowed(o.nodes, 256, (i) => publish(snapshot(i)));
  await waitFor(() => lost.every((id) => agent.registeredAt.has(id)), {
    what: "every lost service registered again",
    timeoutMs: 120_000,
    intervalMs: 20,
  });
  const reconcileRound = (Math.max(...lost.map((id) => agent.registeredAt.get(id)!)) - round0) / 1000;

  const final = { missing: 0, stale: 0 };
  for (let i = 0; i < o.nodes; i++) {
    const held = new Set(agent.ownedBy(nodeName(i)).map((s) => s.Meta["berth_container"]));
    final.missing += [...running[i]!.keys()].filter((id) => !held.has(id)).length;
    final.stale += [...held].filter((id) => id === undefined || !running[i]!.has(id)).length;
  }
  const steady = rss.stop();
  const kv = await (await jetstreamManager(bus.nc)).streams.info(`KV_${streamNames(o.prefix).state}`);
  await bus.drain();
  const sum = applied.reduce((a, b) => a + b, 0);
  return {
    nodes: o.nodes,
    services: total(),
    populate_s: round(populate, 1),
    churn_events: churnEvents,
    start_to_registered_ms: {
      p50: round(percentile(startLag, 50)),
      p99: round(percentile(startLag, 99)),
      max: round(Math.max(...startLag)),
    },
    stop_to_removed_ms: { p50: round(percentile(stopLag, 50)), p99: round(percentile(stopLag, 99)) },
    handler_cpu_us_per_event: round((handlerCpu * 1000) / churnEvents, 0),
    nats_server_cpu_us_per_event: round((natsCpu * 1000) / churnEvents, 0),
    snapshots_during_churn: snapshots,
    reconcile_round_s: round(reconcileRound),
    drifted: lost.length,
    state_bucket: { keys: kv.state.messages, bytes: kv.state.bytes },
    handler_peak_rss_mb: processes.handlerPids.map((pid) => peakRssMb(pid) ?? Number.NaN),
    nats_server_peak_rss_mb: Math.max(...processes.natsPids.map((pid) => peakRssMb(pid) ?? Number.NaN)),
    handler_rss_under_churn_mb: steady.slice(0, processes.handlerPids.length),
    nats_server_rss_under_churn_mb: Math.max(...steady.slice(processes.handlerPids.length)),
    work_share: applied.map((n) => round(sum === 0 ? 0 : n / sum, 2)),
    final,
  };
}
