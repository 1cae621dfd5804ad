// The runtime metrics both processes export (common/runtime-metrics.ts), as prom-client names them.

/** The names and types prom-client's collectDefaultMetrics() gives the figures the issue lists. */
export const RUNTIME_METRICS = {
  process_cpu_seconds_total: "counter",
  process_cpu_user_seconds_total: "counter",
  process_cpu_system_seconds_total: "counter",
  process_resident_memory_bytes: "gauge",
  process_start_time_seconds: "gauge",
  process_open_fds: "gauge",
  process_max_fds: "gauge",
  nodejs_eventloop_lag_seconds: "gauge",
  nodejs_eventloop_lag_min_seconds: "gauge",
  nodejs_eventloop_lag_max_seconds: "gauge",
  nodejs_eventloop_lag_mean_seconds: "gauge",
  nodejs_eventloop_lag_stddev_seconds: "gauge",
  nodejs_eventloop_lag_p50_seconds: "gauge",
  nodejs_eventloop_lag_p90_seconds: "gauge",
  nodejs_eventloop_lag_p99_seconds: "gauge",
  nodejs_heap_size_total_bytes: "gauge",
  nodejs_heap_size_used_bytes: "gauge",
  nodejs_external_memory_bytes: "gauge",
  nodejs_gc_duration_seconds: "histogram",
  nodejs_version_info: "gauge",
} as const;
