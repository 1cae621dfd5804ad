// The runtime metrics (common/runtime-metrics.ts): prom-client's default names and types, and values
// that follow what the process does (CPU spent, files opened, garbage collected, the loop blocked).
import assert from "node:assert/strict";
import { openSync, closeSync } from "node:fs";
import { after, describe, test } from "node:test";
import { createRegistry } from "../common/metrics.ts";
import { addRuntimeMetrics } from "../common/runtime-metrics.ts";
import { histogramOf, parseExposition, valueOf } from "./metrics-scrape.ts";
import { RUNTIME_METRICS } from "./runtime-metric-names.ts";

describe("runtime metrics", () => {
  const registry = createRegistry();
  const stop = addRuntimeMetrics(registry);
  after(stop);
  const scrape = async () => parseExposition(await registry.render());

  test("runtime metrics - every default name of prom-client the issue lists, with its type", async () => {
    const m = await scrape();
    assert.deepEqual(Object.fromEntries([...m.families.values()].map((f) => [f.name, f.type])), RUNTIME_METRICS);
    assert.equal(valueOf(m, "nodejs_version_info", { version: process.version, ...semver() }), 1);
  });

  test("runtime metrics - CPU seconds grow with work; the start time is the process's; memory figures are the process's", async () => {
    const m0 = await scrape();
    // 50 ms of CPU, not of the clock: on a loaded machine the process gets less than it asks for.
    const spent = () => process.cpuUsage().user + process.cpuUsage().system;
    const until = spent() + 50_000;
    while (spent() < until);
    const m1 = await scrape();
    const cpu = (m: typeof m0) => valueOf(m, "process_cpu_seconds_total");
    assert.ok(cpu(m1) - cpu(m0) >= 0.05, `50 ms of work counted (${cpu(m1) - cpu(m0)} s)`);
    assert.ok(Math.abs(valueOf(m1, "process_cpu_user_seconds_total") + valueOf(m1, "process_cpu_system_seconds_total") - cpu(m1)) < 1e-6);
    assert.ok(Math.abs(valueOf(m1, "process_start_time_seconds") - (Date.now() / 1000 - process.uptime())) <= 1);
    const rss = valueOf(m1, "process_resident_memory_bytes");
    assert.ok(rss > 10e6 && Math.abs(rss - process.memoryUsage.rss()) < 50e6, `RSS ${rss}`);
    assert.ok(valueOf(m1, "nodejs_heap_size_used_bytes") <= valueOf(m1, "nodejs_heap_size_total_bytes"));
  });

  test("runtime metrics - open file descriptors follow the files opened", async () => {
    const before = valueOf(await scrape(), "process_open_fds");
    const fds = [0, 1, 2].map(() => openSync(import.meta.filename, "r"));
    try {
      assert.equal(valueOf(await scrape(), "process_open_fds") - before, 3);
    } finally {
      fds.forEach((fd) => closeSync(fd));
    }
    assert.ok(valueOf(await scrape(), "process_max_fds") >= before);
  });

  test("runtime metrics - a blocked event loop shows in the lag's max and p99 since the last scrape", async () => {
    await scrape();
    await new Promise((resolve) => setTimeout(resolve, 120));
    const until = performance.now() + 200;
    while (performance.now() < until);
    await new Promise((resolve) => setTimeout(resolve, 120));
    const m = await scrape();
    const max = valueOf(m, "nodejs_eventloop_lag_max_seconds");
    assert.ok(max >= 0.15 && max < 5, `the 200 ms block, in seconds: max ${max}`);
    assert.ok(valueOf(m, "nodejs_eventloop_lag_p99_seconds") >= 0.15);
    assert.ok(valueOf(m, "nodejs_eventloop_lag_p50_seconds") <= valueOf(m, "nodejs_eventloop_lag_p99_seconds"));
    assert.ok(valueOf(m, "nodejs_eventloop_lag_seconds") < 0.15, "the lag now is not the block of before");
  });

  test("runtime metrics - garbage collections are observed by kind", async () => {
    const minor = () => histogramOf(m, "nodejs_gc_duration_seconds", { kind: "minor" })?.count ?? 0;
    let m = await scrape();
    const before = minor();
    // Young objects enough to fill the nursery a few times over.
    let keep: unknown[] = [];
    for (let i = 0; i < 2_000_000; i++) keep = i % 1000 === 0 ? [] : [...keep.slice(-10), { i }];
    await new Promise((resolve) => setImmediate(resolve));
    m = await scrape();
    assert.ok(minor() > before, `minor collections counted (${before} → ${minor()})`);
  });
});

function semver() {
  const [major, minor, patch] = process.versions.node.split(".");
  return { major: major!, minor: minor!, patch: patch! };
}
