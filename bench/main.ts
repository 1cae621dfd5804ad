// `npm run bench`: berth's latency, throughput, Docker bursts, reconciliation, the quiet host, a fleet of
// 1,000 nodes and memory, each beside its floor or target measured in the same run; prints a table and writes bench/results.json.
// Everything runs on loopback: one nats-server (harness), a private dockerd (harness, root only),
// berth's real handler and emitter processes, and bench/fast-agent.ts as the Consul agents.
// Everything started is stopped at the end, also on failure or Ctrl-C (harness cleanup).
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { promisify } from "node:util";
import { cleanupAll } from "../test/harness/cleanup.ts";
import { missingForDockerd } from "../test/harness/dockerd.ts";
import { natsServerBinary, startNatsServer } from "../test/harness/nats.ts";
import { measureDockerBurst } from "./docker-burst.ts";
import { startFastAgent } from "./fast-agent.ts";
import { measureLatency } from "./latency.ts";
import { round } from "./measure.ts";
import { measureReconcile } from "./reconcile.ts";
import { MEMORY_TARGETS } from "./report-host.ts";
import { refusalsIn } from "./floor-check.ts";
import { formatTable, refusedFloors } from "./report.ts";
import type { Memory, Results, Skipped } from "./results.ts";
import { runtimeFloor } from "./runtime-floor.ts";
import { measureFleet } from "./fleet-item.ts";
import { QUIET_CLONE, measureQuiet } from "./quiet.ts";
import { measureThroughput } from "./throughput.ts";

const RESULTS = new URL("./results.json", import.meta.url).pathname;
const say = (text: string) => process.stderr.write(`bench: ${text}\n`);

const ITEMS = ["latency", "throughput", "burst", "reconcile", "quiet", "fleet", "fleet-cluster"] as const;
type Item = (typeof ITEMS)[number];

/**
 * `npm run bench -- --only throughput,reconcile` runs only those items (e.g. under
 * BENCH_CPU_PROF=<dir>) and prints their figures as JSON; bench/results.json is written only by a full run.
 */
function onlyItems(argv: readonly string[]): Item[] | undefined {
  const at = argv.indexOf("--only");
  if (at === -1) return undefined;
  const names = (argv[at + 1] ?? "").split(",").filter(Boolean);
  const unknown = names.filter((n) => !(ITEMS as readonly string[]).includes(n));
  if (names.length === 0 || unknown.length > 0) throw new Error(`--only takes a comma-separated list of: ${ITEMS.join(", ")}`);
  return names as Item[];
}

async function natsServerVersion(bin: string): Promise<string> {
  const { stdout } = await promisify(execFile)(bin, ["--version"]);
  return stdout.trim().replace(/^nats-server:\s*/, "");
}

const peak = (values: readonly (number | undefined)[]) => {
  const finite = values.filter((v): v is number => v !== undefined && Number.isFinite(v));
  return finite.length === 0 ? undefined : Math.max(...finite);
};

function memory(r: Omit<Results, "memory" | "generated" | "machine" | "duration_s">, floor: Memory["floor"]): Memory {
  const ran = <T extends object>(item: T | Skipped): T[] => ("status" in item ? [] : [item]);
  const emitter = peak([...ran(r.docker_burst), ...ran(r.quiet)].map((i) => i.emitter_peak_rss_mb));
  const handler = peak(r.latency.handler_peak_rss_mb);
  return {
    emitter_peak_rss_mb: emitter,
    emitter_clone_peak_rss_mb: peak(ran(r.quiet_clone).map((i) => i.emitter_peak_rss_mb)),
    handler_peak_rss_mb: handler ?? Number.NaN,
    handler_clone_peak_rss_mb: peak(r.latency_clone.handler_peak_rss_mb),
    handler_busiest_peak_rss_mb: peak([r.throughput.handler_peak_rss_mb, r.reconcile.handler_peak_rss_mb].flat()),
    floor,
    emitter_met: emitter === undefined ? undefined : emitter <= MEMORY_TARGETS.emitter_mb,
    handler_met: handler !== undefined && handler <= MEMORY_TARGETS.handler_mb,
    note: "VmHWM of each child, read just before it stops. Emitter: the real emitter of items 3 and 5 (the image's command: compiled, started by bin/entrypoint.sh), and in a clone (npm run emitter) in item 5's shorter second run. Handler: at 100 events/s (item 1) as the image runs it and as npm run handler runs it; busiest: items 2 and 4",
  };
}

function dockerdMissing(): Skipped | undefined {
  const missing = missingForDockerd();
  return missing.length === 0 ? undefined : { status: "skipped", reason: `a private dockerd needs: ${missing.join(", ")}` };
}

/** A floor above its figure fails the run: said after the figures, and the exit status is 1. */
function failOnRefusedFloors(figures: unknown): void {
  const refused = refusedFloors(figures);
  if (refused.length === 0) return;
  say(refused.join("\n").trim());
  process.exitCode = 1;
}

async function partial(items: readonly Item[]): Promise<void> {
  const loadAtStart = loadavg()[0]!;
  const nats = await startNatsServer();
  const agent = await startFastAgent();
  const out: Record<string, unknown> = {};
  for (const item of items) {
    say(`${item} only`);
    if (item === "latency") out[item] = await measureLatency(nats.url, agent);
    if (item === "throughput") out[item] = await measureThroughput(nats, agent);
    if (item === "burst") out[item] = dockerdMissing() ?? (await measureDockerBurst(nats.url, agent));
    if (item === "reconcile") out[item] = await measureReconcile(nats.url);
    if (item === "quiet") out[item] = dockerdMissing() ?? (await measureQuiet(nats.url, agent));
    if (item === "fleet") out[item] = await measureFleet();
    if (item === "fleet-cluster") out[item] = await measureFleet(true);
  }
  // Other work on the machine shows here: figures from a loaded machine are not to be quoted.
  out.load_average_1min = { start: round(loadAtStart), end: round(loadavg()[0]!) };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  failOnRefusedFloors(out);
}

async function main(): Promise<void> {
  const started = performance.now();
  const loadAtStart = loadavg()[0]!;
  const natsBin = natsServerBinary();
  if (!natsBin) throw new Error("nats-server is needed (apt-get install nats-server)");
  const only = onlyItems(process.argv.slice(2));
  if (only) return partial(only);
  const nats = await startNatsServer();
  const agent = await startFastAgent();

  say("1/7 latency at 100 events/s, beside the bare publish → pull → PUT floor (~25 s)");
  const latency = await measureLatency(nats.url, agent);
  say("2/7 throughput with 1 and 2 workers, in 3 rounds alternating with the floor's, and 1 worker traced (~1.5 min)");
  const throughput = await measureThroughput(nats, agent);
  let dockerBurst: Results["docker_burst"] | undefined = dockerdMissing();
  if (dockerBurst) say(`3/7 Docker bursts skipped: ${dockerBurst.reason}`);
  else {
    say("3/7 Docker bursts of 50 containers on a private dockerd (~20 s)");
    dockerBurst = await measureDockerBurst(nats.url, agent);
  }
  say("4/7 reconcile 10 nodes × 1,000 containers (~15 s)");
  const reconcile = await measureReconcile(nats.url);
  say(
    "5/7 the quiet host: one event every 500 ms and every 5 s, berth's and the floor's alternating, as the image runs berth (~9 min), then as a clone does",
  );
  const quiet = dockerdMissing() ?? (await measureQuiet(nats.url, agent));
  const quietClone = dockerdMissing() ?? (await measureQuiet(nats.url, agent, QUIET_CLONE));
  say("   …and latency at 100 events/s with the handlers as npm run handler runs them, for their memory (~25 s)");
  const latencyClone = await measureLatency(nats.url, agent, "clone");
  say("6/7 a fleet of 1,000 nodes × 50 containers (~3 min)");
  const fleet = await measureFleet();
  say("   …and the same fleet on three clustered nats-servers with BERTH_REPLICAS=3 (~4 min)");
  const fleetCluster = await measureFleet(true);
  say("7/7 memory floor of the runtime");
  const measured = {
    latency,
    throughput,
    docker_burst: dockerBurst,
    reconcile,
    quiet,
    quiet_clone: quietClone,
    latency_clone: latencyClone,
    fleet,
    fleet_cluster: fleetCluster,
  };
  const results: Results = {
    generated: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpu_model: cpus()[0]?.model ?? "",
      node: process.version,
      nats_server: await natsServerVersion(natsBin),
      // Other work on the machine shows here: the floors of the same run keep the ratios meaningful.
      load_average_1min: { start: round(loadAtStart), end: round(loadavg()[0]!) },
    },
    duration_s: 0,
    ...measured,
    memory: memory(measured, await runtimeFloor()),
  };
  results.duration_s = round((performance.now() - started) / 1000, 0);
  writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(
    `\n${formatTable(results)}\n\n${results.machine.cpus} cores, Node ${results.machine.node}, nats-server ${results.machine.nats_server}, load average ${results.machine.load_average_1min.start} → ${results.machine.load_average_1min.end}; ${results.duration_s} s; figures in bench/results.json\n`,
  );
  if (refusalsIn(results).length > 0) process.exitCode = 1;
}

try {
  await main();
} finally {
  await cleanupAll();
}
