// The runtime metrics every Node service exports, under the names prom-client's default metrics give
// them, so that the Node dashboards operators already have work on berth unchanged. Written here
// rather than taken from prom-client: the same figures, ~1 MB less RSS and no dependency
// (bench/README.md "Runtime metrics"). Started only with the metrics server: without
// BERTH_METRICS_PORT nothing observes the garbage collector or samples the event loop.
import { readdirSync, readFileSync } from "node:fs";
import { constants, monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import type { Registry } from "./metrics.ts";

/** prom-client's buckets for nodejs_gc_duration_seconds. */
const GC_BUCKETS = [0.001, 0.01, 0.1, 1, 2, 5] as const;

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: "major",
  [constants.NODE_PERFORMANCE_GC_MINOR]: "minor",
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental",
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weakcb",
};

/**
 * How often the event loop's delay is sampled, in ms: prom-client's default. Each sample is a timer
 * that wakes the process, ~0.1 % of a core (measured in bench/README.md).
 */
export const EVENT_LOOP_RESOLUTION_MS = 50;

/** The soft limit of open files, from /proc/self/limits; undefined where there is no /proc. */
function maxFds(): number | undefined {
  try {
    const line = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync("/proc/self/limits", "utf8"))?.[1];
    return line === undefined || line === "unlimited" ? undefined : Number(line);
  } catch {
    return undefined;
  }
}

/** Open file descriptors (the directory listing's own descriptor left out); undefined where there is no /proc. */
function openFds(): number | undefined {
  try {
    return readdirSync("/proc/self/fd").length - 1;
  } catch {
    return undefined;
  }
}

/** Time until the event loop runs a callback queued now: how late the process answers, at this instant. */
const lagNow = () =>
  new Promise<number>((resolve) => {
    const start = process.hrtime.bigint();
    setImmediate(() => resolve(Number(process.hrtime.bigint() - start) / 1e9));
  });

function addCpuAndMemory(registry: Registry): void {
  const gauge = (name: string, help: string) => registry.gauge(name, help, []);
  const cpu = {
    user: registry.sampled("process_cpu_user_seconds_total", "User CPU time spent in seconds", "counter"),
    system: registry.sampled("process_cpu_system_seconds_total", "System CPU time spent in seconds", "counter"),
    total: registry.sampled("process_cpu_seconds_total", "Total user and system CPU time spent in seconds", "counter"),
  };
  const rss = gauge("process_resident_memory_bytes", "Resident memory size in bytes");
  const heapTotal = gauge("nodejs_heap_size_total_bytes", "Process heap size from Node.js in bytes");
  const heapUsed = gauge("nodejs_heap_size_used_bytes", "Process heap size used from Node.js in bytes");
  const external = gauge("nodejs_external_memory_bytes", "Node.js external memory size in bytes");
  registry.onCollect(() => {
    const used = process.cpuUsage();
    cpu.user.set(used.user / 1e6);
    cpu.system.set(used.system / 1e6);
    cpu.total.set((used.user + used.system) / 1e6);
    const memory = process.memoryUsage();
    rss.set({}, memory.rss);
    heapTotal.set({}, memory.heapTotal);
    heapUsed.set({}, memory.heapUsed);
    external.set({}, memory.external);
  });
}

function addFds(registry: Registry): void {
  if (openFds() === undefined) return;
  const open = registry.gauge("process_open_fds", "Number of open file descriptors", []);
  registry.onCollect(() => open.set({}, openFds() ?? NaN));
  const max = maxFds();
  if (max !== undefined) registry.gauge("process_max_fds", "Maximum number of open file descriptors", []).set({}, max);
}

/** The event loop's lag now, and the distribution of its delay since the previous scrape. */
function addEventLoop(registry: Registry): () => void {
  const lag = registry.gauge("nodejs_eventloop_lag_seconds", "Lag of event loop in seconds", []);
  const delay = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
  delay.enable();
  const stats = {
    min: () => delay.min,
    max: () => delay.max,
    mean: () => delay.mean,
    stddev: () => delay.stddev,
    p50: () => delay.percentile(50),
    p90: () => delay.percentile(90),
    p99: () => delay.percentile(99),
  };
  const gauges = Object.entries(stats).map(
    ([stat, read]) =>
      [registry.gauge(`nodejs_eventloop_lag_${stat}_seconds`, `The ${stat} of the recorded event loop delays`, []), read] as const,
  );
  registry.onCollect(async () => {
    lag.set({}, await lagNow());
    // Before the first sample the histogram's min is 2^63: nothing to say yet, as prom-client.
    if (delay.count > 0) for (const [gauge, read] of gauges) gauge.set({}, read() / 1e9);
    delay.reset();
  });
  return () => delay.disable();
}

function addGc(registry: Registry): () => void {
  const gc = registry.histogram(
    "nodejs_gc_duration_seconds",
    "Garbage collection duration by kind, one of major, minor, incremental or weakcb",
    ["kind"],
    GC_BUCKETS,
  );
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = GC_KINDS[(entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? -1];
      if (kind) gc.observe({ kind }, entry.duration / 1000);
    }
  });
  observer.observe({ entryTypes: ["gc"] });
  return () => observer.disconnect();
}

/** Adds the runtime metrics to the registry; the function returned stops their observers. */
export function addRuntimeMetrics(registry: Registry): () => void {
  registry
    .gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds", [])
    .set({}, Math.round(Date.now() / 1000 - process.uptime()));
  const [major = "", minor = "", patch = ""] = process.versions.node.split(".");
  registry
    .gauge("nodejs_version_info", "Node.js version info", ["version", "major", "minor", "patch"])
    .set({ version: process.version, major, minor, patch }, 1);
  addCpuAndMemory(registry);
  addFds(registry);
  const stops = [addEventLoop(registry), addGc(registry)];
  return () => stops.forEach((stop) => stop());
}
