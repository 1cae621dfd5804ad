// The table's rows of the fleet on three clustered nats-servers (BERTH_REPLICAS=3), each beside the
// single server's figure of the same run.
import type { Results } from "./results.ts";
import { ms, times, wide, yes, type Row } from "./report-cells.ts";

const ratio = (a: number, b: number) => times(Math.round((a / b) * 100) / 100);

export function clusterRows(r: Results): Row[] {
  const c = r.fleet_cluster;
  if (!c) return [];
  const one = r.fleet;
  const label = "6c fleet on 3 clustered nats-servers, BERTH_REPLICAS=3";
  const rows: Parameters<typeof wide>[0][] = [
    [
      `${label}: start → registered p50 / p99 under churn`,
      `${ms(c.start_to_registered_ms.p50)} / ${ms(c.start_to_registered_ms.p99)}`,
      `${ms(one.start_to_registered_ms.p50)} / ${ms(one.start_to_registered_ms.p99)} (one server)`,
      ratio(c.start_to_registered_ms.p99, one.start_to_registered_ms.p99),
      `p99 ≤ ${c.targets.p99_ms} ms`,
      yes(c.met.p99),
    ],
    [
      "6c cluster: a round of snapshots reconciled (1 % drifted)",
      `${c.reconcile_round_s} s`,
      `${one.reconcile_round_s} s (one server)`,
      ratio(c.reconcile_round_s, one.reconcile_round_s),
      `≤ ${c.targets.reconcile_round_s} s`,
      yes(c.met.reconcile_round),
    ],
    [
      "6c cluster: handler CPU per event; the 3 nats-servers' together",
      `${c.handler_cpu_us_per_event} µs; ${c.nats_server_cpu_us_per_event} µs`,
      `${one.handler_cpu_us_per_event} µs; ${one.nats_server_cpu_us_per_event} µs (one server)`,
      ratio(c.handler_cpu_us_per_event, one.handler_cpu_us_per_event),
      "",
      "",
    ],
    [
      "6c cluster: at the end, missing / stale",
      `${c.final.missing} / ${c.final.stale}`,
      "",
      "",
      "0 / 0",
      yes(c.final.missing + c.final.stale === 0),
    ],
  ];
  return rows.map(wide);
}
