// The table's rows of items 5–7: the quiet host, the fleet, and the processes' memory.
import type { Stats } from "./quiet-verdict.ts";
import { mb, metWith, ms, ratioOf, wide, yes, type Row } from "./report-cells.ts";
import type { Results } from "./results.ts";
import { QUIET_TARGET } from "./targets.ts";

/** Peak RSS: the emitter anywhere, the handler at 100 events/s (item 1), each as the image runs it. */
export const MEMORY_TARGETS = { emitter_mb: 60, handler_mb: 100 } as const;

export function hostRows(r: Results): Row[] {
  const rows: Row[] = [];
  const q = r.quiet;
  if (!("status" in q)) {
    for (const [spacing, s] of Object.entries(q.spacings)) {
      const every = spacing.replace(/_/g, " ");
      const c = s.floor_checks;
      const pair = (st: Stats) => `${ms(st.median_ms)} / ${ms(st.p90_ms)}`;
      const range = (st: Stats) => `${[st.min_ms, st.median_ms, st.max_ms].map((v) => v.toLocaleString("en-US")).join(" / ")} ms`;
      rows.push([
        `5 quiet host, one event ${every}: start returned → registered, median / p90`,
        pair(s.start_returned_to_registered),
        range(s.start_returned_to_registered),
        `${pair(s.floor_publish_pull_put)} (bare publish → pull → PUT); Docker's start event ${ms(s.floor_docker_start_event.median_ms)}`,
        range(s.floor_publish_pull_put),
        ratioOf(c.whole),
        `≤ ${ms(s.target.median_ms)} / ≤ ${ms(s.target.p90_ms)} (hop + ${QUIET_TARGET.median_over_hop_ms} / + ${QUIET_TARGET.p90_over_hop_ms})`,
        metWith(s.met, c.whole, c.hop),
      ]);
      rows.push([
        `5 quiet host, ${every}: one bus hop, publish → consumed alone, median / p90`,
        "",
        "",
        pair(s.floor_hop_publish_to_consumed),
        range(s.floor_hop_publish_to_consumed),
        ratioOf(c.hop),
        "",
        "",
      ]);
      rows.push([
        `5 quiet host, ${every}: kill returned → removed, median / p90`,
        pair(s.kill_returned_to_removed),
        range(s.kill_returned_to_removed),
        `${pair(s.floor_docker_die_event)} (Docker's die event)`,
        range(s.floor_docker_die_event),
        "",
        "",
        "",
      ]);
    }
  } else rows.push(wide(["5 quiet host", q.status, "", "", "", ""]));
  const f = r.fleet;
  {
    const label = `6 fleet ${f.nodes.toLocaleString("en-US")} nodes, ${f.services.toLocaleString("en-US")} services`;
    rows.push(
      wide([
        `${label}: start → registered p50 / p99 under churn`,
        `${ms(f.start_to_registered_ms.p50)} / ${ms(f.start_to_registered_ms.p99)}`,
        "",
        "",
        `p99 ≤ ${f.targets.p99_ms} ms`,
        yes(f.met.p99),
      ]),
    );
    rows.push(
      wide([
        "6 fleet: a round of snapshots reconciled (1 % drifted)",
        `${f.reconcile_round_s} s`,
        "",
        "",
        `≤ ${f.targets.reconcile_round_s} s`,
        yes(f.met.reconcile_round),
      ]),
    );
    rows.push(
      wide([
        "6 fleet: handler CPU per event; nats-server's",
        `${f.handler_cpu_us_per_event} µs; ${f.nats_server_cpu_us_per_event} µs`,
        "",
        "",
        "",
        "",
      ]),
    );
    rows.push(
      wide([
        "6 fleet: state bucket",
        `${f.state_bucket.keys.toLocaleString("en-US")} keys, ${mb(Math.round(f.state_bucket.bytes / 1048576))}`,
        "",
        "",
        "",
        "",
      ]),
    );
    rows.push(
      wide([
        "6 fleet: RSS under churn, handlers; nats-server",
        `${f.handler_rss_under_churn_mb.map(mb).join(", ")}; ${mb(f.nats_server_rss_under_churn_mb)}`,
        "",
        "",
        "",
        "",
      ]),
    );
    const limit = f.handler_memory_limit_mib === null ? "no memory limit" : `each under a ${f.handler_memory_limit_mib} MiB limit`;
    rows.push(
      wide([
        `6 fleet: peak RSS with the populate's backlog (50,000 starts at once), handlers (${limit}); nats-server`,
        `${f.handler_peak_rss_mb.map(mb).join(", ")}; ${mb(f.nats_server_peak_rss_mb)}; OOM kills ${f.handler_oom_kills.join(", ") || "-"}`,
        "",
        "",
        `handler ≤ ${f.targets.handler_rss_mb} MB, no OOM kill`,
        yes(f.met.handler_rss && f.handler_oom_kills.every((n) => n === 0)),
      ]),
    );
    rows.push(
      wide([
        "6 fleet: work share of 2 handlers",
        f.work_share.map((s) => `${Math.round(s * 100)} %`).join(", "),
        "",
        "",
        `each ≥ ${Math.round(f.targets.min_share * 100)} %`,
        yes(f.met.shared),
      ]),
    );
    rows.push(
      wide([
        "6 fleet: at the end, missing / stale",
        `${f.final.missing} / ${f.final.stale}`,
        "",
        "",
        "0 / 0",
        yes(f.final.missing + f.final.stale === 0),
      ]),
    );
  }
  const m = r.memory;
  {
    rows.push(
      wide([
        "7 peak RSS, emitter as the image runs it (npm run emitter in a clone)",
        `${mb(m.emitter_peak_rss_mb)} (${mb(m.emitter_clone_peak_rss_mb)})`,
        `${mb(m.floor.node_idle_mb)} (idle node)`,
        "",
        `≤ ${MEMORY_TARGETS.emitter_mb} MB`,
        yes(m.emitter_met),
      ]),
    );
    rows.push(
      wide([
        "7 peak RSS, handler at 100 ev/s as the image runs it (npm run handler)",
        `${mb(m.handler_peak_rss_mb)} (${mb(m.handler_clone_peak_rss_mb)})`,
        `${mb(m.floor.node_idle_mb)} (idle node)`,
        "",
        `≤ ${MEMORY_TARGETS.handler_mb} MB`,
        yes(m.handler_met),
      ]),
    );
    rows.push(wide(["7 peak RSS, handler in items 2 and 4 (backlogs)", mb(m.handler_busiest_peak_rss_mb), "", "", "", ""]));
  }
  return rows;
}
