// The shape of results.json: every item's figures, as the items return them (read by the report's rows).
import type { measureDockerBurst } from "./docker-burst.ts";
import type { measureFleet } from "./fleet-item.ts";
import type { measureQuiet } from "./quiet.ts";
import type { measureLatency } from "./latency.ts";
import type { measureReconcile } from "./reconcile.ts";
import type { runtimeFloor } from "./runtime-floor.ts";
import type { measureThroughput } from "./throughput.ts";

/** An item that could not run here (e.g. no root for a private dockerd), with the reason. */
export type Skipped = { status: string; reason: string };

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
  /** The fleet on three clustered nats-servers, BERTH_REPLICAS=3 (absent from runs before 2026-12-07). */
  fleet_cluster?: Awaited<ReturnType<typeof measureFleet>>;
  memory: Memory;
};
