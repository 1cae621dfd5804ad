// The table's rows of items 1–4: the pipeline on synthetic events (latency, throughput, Docker
// bursts, reconciliation).
import { ms, perS, times, yes, type Row } from "./report-cells.ts";
import type { Results } from "./results.ts";

export function pipelineRows(r: Results): Row[] {
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
  return rows;
}
