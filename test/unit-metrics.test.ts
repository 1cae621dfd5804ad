// The Prometheus registry (text exposition format 0.0.4) and the operations endpoints.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createRegistry } from "../common/metrics.ts";
import { startOpsServer } from "../common/ops-server.ts";
import { get } from "./metrics-scrape.ts";

const linesOf = (text: string, name: string) => text.split("\n").filter((l) => l.startsWith(name));

describe("metrics registry", () => {
  test("metrics registry - a counter renders HELP, TYPE and one sample per label set", async () => {
    const r = createRegistry();
    const c = r.counter("berth_x_total", "X things", ["type", "node"]);
    c.inc({ type: "a", node: "n1" });
    c.inc({ type: "a", node: "n1" }, 2);
    c.inc({ node: "n2", type: "b" });
    const text = await r.render();
    assert.deepEqual(text.split("\n").slice(0, 4), [
      "# HELP berth_x_total X things",
      "# TYPE berth_x_total counter",
      'berth_x_total{type="a",node="n1"} 3',
      'berth_x_total{type="b",node="n2"} 1',
    ]);
  });

  test("metrics registry - a family without labels reads 0 before anything happens", async () => {
    const r = createRegistry();
    r.gauge("berth_g", "G", []);
    assert.deepEqual(linesOf(await r.render(), "berth_g "), ["berth_g 0"]);
  });

  test("metrics registry - label values escape backslash, double quote and newline", async () => {
    const r = createRegistry();
    r.counter("berth_e_total", "E", ["reason"]).inc({ reason: 'a\\b"c\nd' });
    assert.deepEqual(linesOf(await r.render(), "berth_e_total{"), ['berth_e_total{reason="a\\\\b\\"c\\nd"} 1']);
  });

  test("metrics registry - a counter refuses to go down", () => {
    const c = createRegistry().counter("berth_d_total", "D", []);
    assert.throws(() => c.inc({}, -1), /only go up/);
  });

  test("metrics registry - a histogram renders cumulative buckets, +Inf, sum and count", async () => {
    const r = createRegistry();
    const h = r.histogram("berth_h_seconds", "H", ["node"], [0.1, 1]);
    for (const v of [0.05, 0.5, 0.5, 3]) h.observe({ node: "n1" }, v);
    assert.deepEqual(linesOf(await r.render(), "berth_h_seconds_"), [
      'berth_h_seconds_bucket{node="n1",le="0.1"} 1',
      'berth_h_seconds_bucket{node="n1",le="1"} 3',
      'berth_h_seconds_bucket{node="n1",le="+Inf"} 4',
      'berth_h_seconds_sum{node="n1"} 4.05',
      'berth_h_seconds_count{node="n1"} 4',
    ]);
  });

  test("metrics registry - collectors run before each render; a failing one does not stop it", async () => {
    const r = createRegistry();
    const g = r.gauge("berth_lag", "Lag", []);
    let n = 0;
    r.onCollect(() => g.set({}, ++n));
    r.onCollect(() => Promise.reject(new Error("NATS away")));
    await r.render();
    assert.deepEqual(linesOf(await r.render(), "berth_lag "), ["berth_lag 2"]);
  });

  test("metrics registry - a name declared twice or an invalid name is refused", () => {
    const r = createRegistry();
    r.counter("berth_a_total", "A", []);
    assert.throws(() => r.counter("berth_a_total", "A", []), /declared twice/);
    assert.throws(() => r.counter("berth-b", "B", []), /invalid metric name/);
    assert.throws(() => r.counter("berth_c_total", "C", ["le"]), /invalid label name/);
  });
});

describe("ops server", () => {
  const start = async (checks: Record<string, boolean>) => {
    const registry = createRegistry();
    registry.counter("berth_seen_total", "Seen", []).inc({});
    const server = await startOpsServer({ port: 0, host: "127.0.0.1", registry, readiness: () => checks });
    return { server, url: `http://127.0.0.1:${server.port}` };
  };

  test("ops server - /metrics answers the exposition text with Prometheus' content type", async () => {
    const { server, url } = await start({});
    try {
      const res = await get(`${url}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.contentType, /^text\/plain; version=0\.0\.4/);
      assert.match(res.body, /^berth_seen_total 1$/m);
    } finally {
      await server.close();
    }
  });

  test("ops server - /readyz is 200 when every check holds, 503 naming the failing one otherwise; /healthz is 200", async () => {
    const checks = { nats: true, consumer: true };
    const { server, url } = await start(checks);
    try {
      assert.equal((await get(`${url}/readyz`)).status, 200);
      checks.consumer = false;
      const res = await get(`${url}/readyz`);
      assert.equal(res.status, 503);
      assert.deepEqual(JSON.parse(res.body), { status: "not ready", checks: { nats: true, consumer: false } });
      assert.equal((await get(`${url}/healthz`)).status, 200);
      assert.equal((await get(`${url}/other`)).status, 404);
    } finally {
      await server.close();
    }
  });
});
