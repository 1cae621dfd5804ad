// The bench's table (stdout, and README's Performance section) from the figures in results.json.
import type { measureDockerBurst } from "./docker-burst.ts";
import type { measureFleet } from "./fleet-item.ts";
import type { measureQuiet } from "./quiet.ts";
import type { measureLatency } from "./latency.ts";
import type { measureReconcile } from "./reconcile.ts";
import type { runtimeFloor } from "./runtime-floor.ts";
import type { measureThroughput } from "./throughput.ts";

/** An item that could not run here (e.g. no root for a private dockerd), with the reason. */
export type Skipped = { status: string; reason: string };

/** Peak RSS: the emitter anywhere, the handler at 100 events/s (item 1), each as the image runs it. */
export const MEMORY_TARGETS = { emitter_mb: 60, handler_mb: 100 } as const;

export type Memory = {
  emitter_peak_rss_mb: number | undefined;
  emitter_clone_peak_rss_mb: number | undefined;
  handler_peak_rss_mb: number;
  handler_clone_peak_rss_mb: number | undefined;
  handler_busiest_peak_rss_mb: number | undefined;
  floor: Awaited<ReturnType<typeof runtimeFloor>>;
  emitter_met: boolean | undefined;
  handler_met: boolean;
  note: string;
};

export type Results = {
  generated: string;
  machine: { cpus: number; cpu_model: string; node: string; nats_server: string; load_average_1min: { start: number; end: number } };
  duration_s: number;
  latency: Awaited<ReturnType<typeof measureLatency>>;
  throughput: Awaited<ReturnType<typeof measureThroughput>>;
  docker_burst: Awaited<ReturnType<typeof measureDockerBurst>> | Skipped;
  reconcile: Awaited<ReturnType<typeof measureReconcile>>;
  quiet: Awaited<ReturnType<typeof measureQuiet>> | Skipped;
  quiet_clone: Awaited<ReturnType<typeof measureQuiet>> | Skipped;
  latency_clone: Awaited<ReturnType<typeof measureLatency>>;
  fleet: Awaited<ReturnType<typeof measureFleet>>;
  memory: Memory;
};

type Row = [figure: string, berth: string, floor: string, ratio: string, target: string, met: string];

const ms = (v: unknown) => (typeof v === "number" ? `${v.toLocaleString("en-US")} ms` : "—");
const perS = (v: unknown) => (typeof v === "number" ? `${v.toLocaleString("en-US")}/s` : "—");
const mb = (v: unknown) => (typeof v === "number" ? `${v} MB` : "—");
const times = (v: unknown) => (typeof v === "number" ? `${v}×` : "");
const yes = (v: unknown) => (v === true ? "yes" : v === false ? "no" : "");

function tableRows(r: Results): Row[] {
  const rows: Row[] = [];
  const l = r.latency;
  {
    rows.push([
      `1 latency p50 (${l.rate_per_s} ev/s, ${l.workers} workers)`,
      ms(l.berth.p50_ms),
      ms(l.floor.p50_ms),
      times(l.ratio.p50),
      "",
      "",
    ]);
    rows.push(["1 latency p99", ms(l.berth.p99_ms), ms(l.floor.p99_ms), times(l.ratio.p99), "≤ 5 ms and ≤ 2× floor", yes(l.met)]);
  }
  const t = r.throughput;
  {
    rows.push([
      "2 throughput, 1 worker",
      perS(t.berth.one_worker_per_s),
      perS(t.floor.one_worker_per_s),
      times(t.ratio_to_floor.one_worker),
      "",
      "",
    ]);
    rows.push([
      "2 throughput, 2 workers",
      perS(t.berth.two_workers_per_s),
      perS(t.floor.two_workers_per_s),
      times(t.ratio_to_floor.two_workers),
      "≥ 5,000/s",
      yes(t.met),
    ]);
    rows.push(["2 scaling 1 → 2 workers", times(t.berth.scaling), times(t.floor.scaling), "", "near-linear (2 cores allow 1.2–1.5×)", ""]);
    const cpu = t.berth.cpu_us_per_event.one_worker;
    const floorCpu = t.floor.cpu_us_per_event.one_worker;
    const cpuRatio = Math.round((cpu.workers / floorCpu.workers) * 100) / 100;
    rows.push([
      "2 CPU per event, 1 worker (nats-server)",
      `${cpu.workers} µs (${cpu.nats_server} µs)`,
      `${floorCpu.workers} µs (${floorCpu.nats_server} µs)`,
      times(cpuRatio),
      "≤ 2× floor",
      yes(cpuRatio <= 2),
    ]);
  }
  const b = r.docker_burst;
  if (!("status" in b)) {
    rows.push([
      `3 burst: all ${b.containers} registered after the last start returned`,
      ms(b.start.all_registered_after_last_start_ms),
      `${ms(b.start.floor_docker_last_start_event_ms)} (Docker's last start event)`,
      "",
      "≤ 1 s",
      yes(b.met),
    ]);
    rows.push([
      `3 burst: all ${b.containers} gone after the last kill returned`,
      ms(b.kill.all_gone_after_last_kill_ms),
      `${ms(b.kill.floor_docker_last_die_event_ms)} (Docker's last die event)`,
      "",
      "",
      "",
    ]);
    type Lag = { p50_ms: number; max_ms: number };
    const lag = (l: Lag, emitter: Lag) => `${ms(l.p50_ms)} / ${ms(l.max_ms)} (published: ${ms(emitter.p50_ms)} / ${ms(emitter.max_ms)})`;
    const s = b.start;
    const k = b.kill;
    rows.push([
      "3 burst: each registered after its own start event, p50 / max",
      lag(s.each_registered_after_its_docker_event, s.each_published_by_the_emitter_after_its_docker_event),
      "",
      "",
      "",
      "",
    ]);
    rows.push([
      "3 burst: each gone after its own die event, p50 / max",
      lag(k.each_gone_after_its_docker_event, k.each_published_by_the_emitter_after_its_docker_event),
      "",
      "",
      "",
      "",
    ]);
    rows.push([
      "3 burst: registered / gone",
      `${b.start.registered}/${b.containers}, ${b.kill.gone}/${b.containers}`,
      "",
      "",
      `${b.containers}/${b.containers}`,
      yes(b.complete),
    ]);
  } else rows.push(["3 burst", b.status, "", "", "", ""]);
  const c = r.reconcile;
  {
    rows.push([
      `4 reconcile ${c.nodes} × ${c.containers_per_node}, ${c.stale_per_node} stale + ${c.missing_per_node} missing per node`,
      ms(c.converge_ms),
      `${ms(c.floor_converge_ms)} (the agent calls alone)`,
      times(c.ratio),
      "≤ 2 s",
      yes(c.converge_ms <= 2000),
    ]);
    rows.push([
      "4 reconcile: agent calls",
      c.agent_calls.total.toLocaleString("en-US"),
      `${c.floor_calls.toLocaleString("en-US")} (one per difference)`,
      times(c.agent_calls.per_difference),
      "≈ differences",
      yes(c.met),
    ]);
  }
  const q = r.quiet;
  if (!("status" in q)) {
    for (const [spacing, s] of Object.entries(q.spacings)) {
      rows.push([
        `5 quiet host, one start ${spacing.replace(/_/g, " ")}: start returned → registered, median / p90`,
        `${ms(s.start_returned_to_registered.median_ms)} / ${ms(s.start_returned_to_registered.p90_ms)}`,
        `${ms(s.floor_publish_pull_put.median_ms)} / ${ms(s.floor_publish_pull_put.p90_ms)} (bare publish → pull → PUT); Docker's start event ${ms(s.floor_docker_start_event.median_ms)}`,
        times(Math.round((s.start_returned_to_registered.median_ms / s.floor_publish_pull_put.median_ms) * 100) / 100),
        "≤ 3 ms / ≤ 5 ms",
        yes(s.met),
      ]);
      rows.push([
        `5 quiet host, ${spacing.replace(/_/g, " ")}: kill returned → removed, median / p90`,
        `${ms(s.kill_returned_to_removed.median_ms)} / ${ms(s.kill_returned_to_removed.p90_ms)}`,
        `${ms(s.floor_docker_die_event.median_ms)} / ${ms(s.floor_docker_die_event.p90_ms)} (Docker's die event)`,
        "",
        "",
        "",
      ]);
    }
  } else rows.push(["5 quiet host", q.status, "", "", "", ""]);
  const f = r.fleet;
  {
    const label = `6 fleet ${f.nodes.toLocaleString("en-US")} nodes, ${f.services.toLocaleString("en-US")} services`;
    rows.push([
      `${label}: start → registered p50 / p99 under churn`,
      `${ms(f.start_to_registered_ms.p50)} / ${ms(f.start_to_registered_ms.p99)}`,
      "",
      "",
      `p99 ≤ ${f.targets.p99_ms} ms`,
      yes(f.met.p99),
    ]);
    rows.push([
      "6 fleet: a round of snapshots reconciled (1 % drifted)",
      `${f.reconcile_round_s} s`,
      "",
      "",
      `≤ ${f.targets.reconcile_round_s} s`,
      yes(f.met.reconcile_round),
    ]);
    rows.push([
      "6 fleet: handler CPU per event; nats-server's",
      `${f.handler_cpu_us_per_event} µs; ${f.nats_server_cpu_us_per_event} µs`,
      "",
      "",
      "",
      "",
    ]);
    rows.push([
      "6 fleet: state bucket",
      `${f.state_bucket.keys.toLocaleString("en-US")} keys, ${mb(Math.round(f.state_bucket.bytes / 1048576))}`,
      "",
      "",
      "",
      "",
    ]);
    rows.push([
      "6 fleet: peak RSS, handlers; nats-server",
      `${f.handler_peak_rss_mb.map(mb).join(", ")}; ${mb(f.nats_server_peak_rss_mb)}`,
      "",
      "",
      `handler ≤ ${f.targets.handler_rss_mb} MB`,
      yes(f.met.handler_rss),
    ]);
    rows.push([
      "6 fleet: work share of 2 handlers",
      f.work_share.map((s) => `${Math.round(s * 100)} %`).join(", "),
      "",
      "",
      `each ≥ ${Math.round(f.targets.min_share * 100)} %`,
      yes(f.met.shared),
    ]);
    rows.push([
      "6 fleet: at the end, missing / stale",
      `${f.final.missing} / ${f.final.stale}`,
      "",
      "",
      "0 / 0",
      yes(f.final.missing + f.final.stale === 0),
    ]);
  }
  const m = r.memory;
  {
    rows.push([
      "7 peak RSS, emitter as the image runs it (npm run emitter in a clone)",
      `${mb(m.emitter_peak_rss_mb)} (${mb(m.emitter_clone_peak_rss_mb)})`,
      `${mb(m.floor.node_idle_mb)} (idle node)`,
      "",
      `≤ ${MEMORY_TARGETS.emitter_mb} MB`,
      yes(m.emitter_met),
    ]);
    rows.push([
      "7 peak RSS, handler at 100 ev/s as the image runs it (npm run handler)",
      `${mb(m.handler_peak_rss_mb)} (${mb(m.handler_clone_peak_rss_mb)})`,
      `${mb(m.floor.node_idle_mb)} (idle node)`,
      "",
      `≤ ${MEMORY_TARGETS.handler_mb} MB`,
      yes(m.handler_met),
    ]);
    rows.push(["7 peak RSS, handler in items 2 and 4 (backlogs)", mb(m.handler_busiest_peak_rss_mb), "", "", "", ""]);
  }
  return rows;
}

const HEADER: Row = ["figure", "berth", "floor (same run)", "ratio", "target", "met"];

/** A Markdown table: readable in a terminal and pasted as is into README's Performance section. */
export function formatTable(results: Results): string {
  const rows = [HEADER, ...tableRows(results)];
  const widths = HEADER.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: Row) => `| ${r.map((cell, i) => cell.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(HEADER), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.slice(1).map(line)].join("\n");
}
