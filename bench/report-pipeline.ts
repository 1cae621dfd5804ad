// The table's rows of items 1–4: the pipeline on synthetic events (latency, throughput, Docker
// bursts, reconciliation).
import { spreadOf, type FloorCheck } from "./floor-check.ts";
import { metWith, ms, perS, ratioOf, spread, times, wide, yes, type Row } from "./report-cells.ts";
import { round } from "./measure.ts";
import type { Results } from "./results.ts";
import { THROUGHPUT_TARGETS } from "./targets.ts";

export function pipelineRows(r: Results): Row[] {
  const rows: Row[] = [];
  const l = r.latency;
  {
    const label = `1 latency p50 (${l.rate_per_s} ev/s, ${l.workers} workers)`;
    const c = l.floor_checks;
    rows.push([
      label,
      ms(l.berth.p50_ms),
      spread(c.p50.berth, " ms"),
      ms(l.floor.p50_ms),
      spread(c.p50.floor, " ms"),
      ratioOf(c.p50),
      "",
      metWith(undefined, c.p50),
    ]);
    rows.push([
      "1 latency p99",
      ms(l.berth.p99_ms),
      spread(c.p99.berth, " ms"),
      ms(l.floor.p99_ms),
      spread(c.p99.floor, " ms"),
      ratioOf(c.p99),
      "≤ 5 ms and ≤ 2× floor",
      metWith(l.met, c.p99),
    ]);
  }
  const t = r.throughput;
  {
    const c = t.floor_checks;
    const rate = (label: string, check: FloorCheck, target: string, met: unknown): Row => [
      label,
      perS(check.berth.median),
      spread(check.berth, "/s"),
      perS(check.floor.median),
      spread(check.floor, "/s"),
      ratioOf(check),
      target,
      metWith(met, check),
    ];
    rows.push(rate("2 throughput, 1 worker", c.one_worker, "", undefined));
    rows.push(rate("2 throughput, 2 workers", c.two_workers, `≥ ${THROUGHPUT_TARGETS.two_workers_min_ratio}× floor`, t.met.two_workers));
    rows.push(
      wide(["2 scaling 1 → 2 workers", times(t.berth.scaling), times(t.floor.scaling), "", "near-linear (2 cores allow 1.2–1.5×)", ""]),
    );
    const cpu = c.cpu_per_event_one_worker;
    const nats = (list: readonly { nats_server: number }[]) => spreadOf(list.map((x) => x.nats_server)).median;
    rows.push([
      "2 CPU per event, 1 worker (nats-server)",
      `${cpu.berth.median} µs (${nats(t.berth.cpu_us_per_event_by_round.one_worker)} µs)`,
      spread(cpu.berth, " µs"),
      `${cpu.floor.median} µs (${nats(t.floor.cpu_us_per_event_by_round.one_worker)} µs)`,
      spread(cpu.floor, " µs"),
      ratioOf(cpu),
      `≤ ${THROUGHPUT_TARGETS.cpu_per_event_max_ratio}× floor`,
      metWith(t.met.cpu_per_event, cpu),
    ]);
    // Not a floor: the same run with tracing off, beside it (what the spans of each event cost).
    const traced = t.tracing_on.cpu_us_per_event_one_worker;
    rows.push([
      "2 CPU per event, 1 worker, tracing on (spans exported over OTLP/HTTP) beside off",
      `${traced.median} µs`,
      spread(traced, " µs"),
      `${cpu.berth.median} µs (tracing off)`,
      spread(cpu.berth, " µs"),
      times(round(traced.median / cpu.berth.median)),
      "",
      "",
    ]);
  }
  const b = r.docker_burst;
  if (!("status" in b)) {
    rows.push(
      wide([
        `3 burst: all ${b.containers} registered after the last start returned`,
        ms(b.start.all_registered_after_last_start_ms),
        `${ms(b.start.floor_docker_last_start_event_ms)} (Docker's last start event)`,
        "",
        "≤ 1 s",
        yes(b.met),
      ]),
    );
    rows.push(
      wide([
        `3 burst: all ${b.containers} gone after the last kill returned`,
        ms(b.kill.all_gone_after_last_kill_ms),
        `${ms(b.kill.floor_docker_last_die_event_ms)} (Docker's last die event)`,
        "",
        "",
        "",
      ]),
    );
    type Lag = { p50_ms: number; max_ms: number };
    const lag = (l: Lag, emitter: Lag) => `${ms(l.p50_ms)} / ${ms(l.max_ms)} (published: ${ms(emitter.p50_ms)} / ${ms(emitter.max_ms)})`;
    const s = b.start;
    const k = b.kill;
    rows.push(
      wide([
        "3 burst: each registered after its own start event, p50 / max",
        lag(s.each_registered_after_its_docker_event, s.each_published_by_the_emitter_after_its_docker_event),
        "",
        "",
        "",
        "",
      ]),
    );
    rows.push(
      wide([
        "3 burst: each gone after its own die event, p50 / max",
        lag(k.each_gone_after_its_docker_event, k.each_published_by_the_emitter_after_its_docker_event),
        "",
        "",
        "",
        "",
      ]),
    );
    rows.push(
      wide([
        "3 burst: registered / gone",
        `${b.start.registered}/${b.containers}, ${b.kill.gone}/${b.containers}`,
        "",
        "",
        `${b.containers}/${b.containers}`,
        yes(b.complete),
      ]),
    );
  } else rows.push(wide(["3 burst", b.status, "", "", "", ""]));
  const c = r.reconcile;
  {
    rows.push(
      wide([
        `4 reconcile ${c.nodes} × ${c.containers_per_node}, ${c.stale_per_node} stale + ${c.missing_per_node} missing per node`,
        ms(c.converge_ms),
        `${ms(c.floor_converge_ms)} (the agent calls alone)`,
        times(c.ratio),
        "≤ 2 s",
        yes(c.converge_ms <= 2000),
      ]),
    );
    rows.push(
      wide([
        "4 reconcile: agent calls",
        c.agent_calls.total.toLocaleString("en-US"),
        `${c.floor_calls.toLocaleString("en-US")} (one per difference)`,
        times(c.agent_calls.per_difference),
        "≈ differences",
        yes(c.met),
      ]),
    );
  }
  return rows;
}
