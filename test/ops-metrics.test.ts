// /metrics, /healthz and /readyz scraped from running processes: an emitter on a private dockerd
// (through a socket proxy, so Docker can be made unreachable), a real nats-server, a handler and an
// agent double (test/ops-metrics-fixture.ts). BERTH_METRICS_PORT=0 lets each process pick a free
// port; BERTH_RESYNC_SECONDS=2 makes the emitter publish node snapshots, so reconciliation runs as it
// does in production. The tests run in order and each measures the change of counters across what it
// does, all on one pipeline (the last checks docs/operating.md against the series the others made).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { publishDurable } from "../common/nats/index.ts";
import { bytesOf, event } from "./builders.ts";
import { cleanupAll } from "./harness/cleanup.ts";
import { waitFor } from "./harness/wait.ts";
import { get, histogramOf, parseExposition, valueOf, type Exposition } from "./metrics-scrape.ts";
import { alertExpressions, dashboardExpressions, metricNames, seriesNames } from "./promql-names.ts";
import type { Pipeline } from "./pipeline/index.ts";
import type { SocketProxy } from "./socket-proxy.ts";
import { CONTENT_TYPE, EXPECTED, NODE, PREFIX, STARTED, STOPPED, opsProbes, startOpsPipeline } from "./ops-metrics-fixture.ts";

describe("metrics", () => {
  let p: Pipeline;
  let proxy: SocketProxy;
  const urls = { emitter: "", handler: "" };
  const { scrape, scrapeUntil, readyz, ownedBy, run, settled } = opsProbes(() => p, urls);

  before(async () => {
    ({ p, proxy } = await startOpsPipeline(urls));
  });
  after(cleanupAll);

  const prerequisites = (t: import("node:test").TestContext) => p.ready(t);

  test("metrics - both processes export every metric the issue lists, in the text format, with HELP and TYPE; /healthz and /readyz answer 200", async (t) => {
    if (!prerequisites(t)) return;
    for (const who of ["emitter", "handler"] as const) {
      const res = await get(`${urls[who]}/metrics`);
      assert.equal(res.contentType, CONTENT_TYPE);
      const m = parseExposition(res.body);
      const types = Object.fromEntries(Object.keys(EXPECTED[who]).map((name) => [name, m.families.get(name)?.type]));
      assert.deepEqual(types, EXPECTED[who], who);
      for (const name of Object.keys(EXPECTED[who]))
        assert.ok((m.families.get(name)?.help ?? "").length > 10, `${who} ${name} has a HELP text`);
      assert.equal((await get(`${urls[who]}/healthz`)).status, 200);
      assert.equal((await get(`${urls[who]}/nowhere`)).status, 404);
    }
    assert.deepEqual(await readyz("emitter"), { status: 200, checks: { docker: true, nats: true } });
    assert.deepEqual(await readyz("handler"), { status: 200, checks: { nats: true, consumer: true } });
    assert.equal(valueOf(await scrape("emitter"), "berth_docker_connected", { node: NODE }), 1);
  });

  test("metrics - a container started and stopped: published and applied +1 of each type on its node; one latency observation per applied event", async (t) => {
    if (!prerequisites(t)) return;
    const e0 = await scrape("emitter");
    const h0 = await settled();
    const latency0 = histogramOf(h0, "berth_event_to_agent_seconds", { node: NODE });
    const began = Date.now();
    const id = await run("-e", "SERVICE_NAME=scraped");
    await waitFor(() => ownedBy(id).length === 1, { what: "the container registered" });
    await p.docker(NODE, "stop", id);
    await waitFor(() => ownedBy(id).length === 0, { what: "the container deregistered" });
    const elapsed = (Date.now() - began) / 1000;
    const h1 = await scrapeUntil(
      "handler",
      (m) =>
        valueOf(m, "berth_events_applied_total", { type: STOPPED, node: NODE }) >
        valueOf(h0, "berth_events_applied_total", { type: STOPPED, node: NODE }),
      "the stop counted as applied",
    );
    const e1 = await scrape("emitter");
    const delta = (a: Exposition, b: Exposition, name: string, labels: Record<string, string>) =>
      valueOf(b, name, labels) - valueOf(a, name, labels);
    assert.deepEqual(
      {
        published: [STARTED, STOPPED].map((type) => delta(e0, e1, "berth_events_published_total", { type, node: NODE })),
        applied: [STARTED, STOPPED].map((type) => delta(h0, h1, "berth_events_applied_total", { type, node: NODE })),
      },
      { published: [1, 1], applied: [1, 1] },
    );
    const latency = histogramOf(h1, "berth_event_to_agent_seconds", { node: NODE });
    assert.ok(latency, "a latency histogram for the node");
    assert.equal(latency.count - (latency0?.count ?? 0), 2, "one observation per applied event");
    const appliedAll = h1.families
      .get("berth_events_applied_total")!
      .samples.filter((s) => s.labels["node"] === NODE)
      .reduce((sum, s) => sum + s.value, 0);
    assert.equal(latency.count, appliedAll, "the histogram's count equals the applied events of the node");
    assert.equal(latency.buckets.at(-1)?.le, Infinity);
    assert.equal(latency.buckets.at(-1)?.count, latency.count);
    for (let i = 1; i < latency.buckets.length; i++)
      assert.ok(latency.buckets[i]!.count >= latency.buckets[i - 1]!.count, "buckets are cumulative");
    const added = latency.sum - (latency0?.sum ?? 0);
    assert.ok(added > 0 && added < 2 * elapsed, `the two observations (${added} s) are seconds, within the ${elapsed} s the test took`);
  });

  test("metrics - dead letters counted by reason and node: a body that is no event, an event of a node no agent serves", async (t) => {
    if (!prerequisites(t)) return;
    const h0 = await scrape("handler");
    const dead = (m: Exposition, reason: string, node: string) => valueOf(m, "berth_events_dead_lettered_total", { reason, node });
    await publishDurable(p.bus, `${PREFIX}.v1.${NODE}.container.started`, bytesOf("{not json"), "ops-garbage-1");
    await p.publish(event({ node: "ghost", container: { id: "9".repeat(64), name: "ghost" } }));
    const h1 = await scrapeUntil(
      "handler",
      (m) => dead(m, "schema", NODE) > dead(h0, "schema", NODE) && dead(m, "unknown-node", "ghost") > dead(h0, "unknown-node", "ghost"),
      "both dead letters counted",
    );
    assert.deepEqual(
      [dead(h1, "schema", NODE) - dead(h0, "schema", NODE), dead(h1, "unknown-node", "ghost") - dead(h0, "unknown-node", "ghost")],
      [1, 1],
    );
    const applied = (m: Exposition) => m.families.get("berth_events_applied_total")!.samples.reduce((sum, s) => sum + s.value, 0);
    assert.equal(applied(h1), applied(h0), "nothing dead-lettered counts as applied");
  });

  test("metrics - a berth-owned service put into the agent by hand: the next snapshot finds and fixes exactly one difference", async (t) => {
    if (!prerequisites(t)) return;
    const h0 = await settled();
    const orphan = { ID: `${NODE}:orphan:1`, Name: "orphan", Port: 1, Meta: { berth_node: NODE, berth_container: "7".repeat(64) } };
    assert.equal(
      (await fetch(`${p.agentUrl(NODE)}/v1/agent/service/register`, { method: "PUT", body: JSON.stringify(orphan) })).status,
      200,
    );
    await waitFor(() => p.agent(NODE).services()[orphan.ID] === undefined, { what: "the stale service removed by reconciliation" });
    const h1 = await scrapeUntil(
      "handler",
      (m) =>
        valueOf(m, "berth_reconcile_differences_fixed_total", { node: NODE }) >
        valueOf(h0, "berth_reconcile_differences_fixed_total", { node: NODE }),
      "the fix counted",
    );
    const delta = (name: string) => valueOf(h1, name, { node: NODE }) - valueOf(h0, name, { node: NODE });
    assert.deepEqual([delta("berth_reconcile_differences_found_total"), delta("berth_reconcile_differences_fixed_total")], [1, 1]);
  });

  test("metrics - the agent down for a while: events deferred by node, the node shown waiting and for what, no lag; back up: repaired, applied, slow latencies observed", async (t) => {
    if (!prerequisites(t)) return;
    const h0 = await settled();
    await p.stopAgent(NODE);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await run("-e", `SERVICE_NAME=waits${i}`));
    const lastStarted = Date.now();
    const delta = (m: Exposition, name: string) => valueOf(m, name, { node: NODE }) - valueOf(h0, name, { node: NODE });
    const during = await scrapeUntil(
      "handler",
      (m) =>
        delta(m, "berth_events_deferred_total") >= 3 &&
        valueOf(m, "berth_nodes_waiting") === 1 &&
        valueOf(m, "berth_consumer_pending") + valueOf(m, "berth_consumer_ack_pending") === 0,
      "three events deferred, the node waiting, and no lag: the events are recorded and acked",
      20_000,
    );
    assert.ok(delta(during, "berth_agent_errors_total") >= 3, "each deferral was an agent error");
    assert.equal(delta(during, "berth_retries_total"), 0, "nothing is handed back to NATS");
    assert.ok(
      valueOf(during, "berth_node_waiting_seconds", { node: NODE, waiting_for: "unreachable" }) >= 0 &&
        during.families.get("berth_node_waiting_seconds")?.samples.length === 1,
      "the node waits for its unreachable agent",
    );
    assert.deepEqual(
      await readyz("handler"),
      { status: 200, checks: { nats: true, consumer: true } },
      "an agent that is down is not the handler's readiness",
    );
    await p.startAgent(NODE);
    const back = Date.now();
    await waitFor(() => ids.every((id) => ownedBy(id).length === 1), {
      what: "the waiting containers registered once the agent is back",
      timeoutMs: 40_000,
    });
    const h1 = await scrapeUntil("handler", (m) => valueOf(m, "berth_nodes_waiting") === 0, "no node waiting any more");
    assert.equal(valueOf(h1, "berth_consumer_pending"), 0);
    assert.ok(valueOf(h1, "berth_repairs_total", { node: NODE, outcome: "done" }) >= 1, "repaired");
    assert.equal(
      valueOf(h1, "berth_events_applied_total", { type: STARTED, node: NODE }) -
        valueOf(h0, "berth_events_applied_total", { type: STARTED, node: NODE }),
      3,
    );
    const [l0, l1] = [
      histogramOf(h0, "berth_event_to_agent_seconds", { node: NODE })!,
      histogramOf(h1, "berth_event_to_agent_seconds", { node: NODE })!,
    ];
    const outage = (back - lastStarted) / 1000;
    assert.ok(
      l1.sum - l0.sum >= 3 * outage,
      `each of the 3 latencies is at least the ${outage} s the agent was still down after the last start (sum ${l1.sum - l0.sum} s)`,
    );
  });

  test("metrics - Docker unreachable: the emitter is alive but not ready (docker false, gauge 0); reachable again: ready", async (t) => {
    if (!prerequisites(t)) return;
    proxy.cut({ refusing: true });
    const down = await waitFor(
      async () => {
        const r = await readyz("emitter");
        return r.status === 503 && r;
      },
      { what: "the emitter not ready" },
    );
    assert.deepEqual(down.checks, { docker: false, nats: true });
    assert.equal(valueOf(await scrape("emitter"), "berth_docker_connected", { node: NODE }), 0);
    assert.equal((await get(`${urls.emitter}/healthz`)).status, 200);
    proxy.accept();
    await waitFor(async () => (await readyz("emitter")).status === 200, { what: "the emitter ready again", timeoutMs: 20_000 });
    assert.equal(valueOf(await scrape("emitter"), "berth_docker_connected", { node: NODE }), 1);
  });

  test("metrics - NATS down: both alive, neither ready, lag unknown (NaN), the emitter retries a publish; NATS back: ready, the event applied", async (t) => {
    if (!prerequisites(t)) return;
    const e0 = await scrape("emitter");
    let id = "";
    await p.nats!.restart({
      whileDown: async () => {
        for (const who of ["emitter", "handler"] as const) {
          const r = await waitFor(
            async () => {
              const x = await readyz(who);
              return x.status === 503 && x;
            },
            { what: `${who} not ready` },
          );
          assert.equal(r.checks["nats"], false, who);
          assert.equal((await get(`${urls[who]}/healthz`)).status, 200, who);
        }
        const began = Date.now();
        const h = await scrape("handler");
        const took = Date.now() - began;
        t.diagnostic(`a handler scrape without NATS took ${took} ms`);
        assert.ok(took < 2_500, `a scrape does not wait out a NATS request timeout (${took} ms)`);
        assert.ok(Number.isNaN(valueOf(h, "berth_consumer_pending")), "no stale lag while NATS cannot be asked");
        id = await run("-e", "SERVICE_NAME=offline");
        await scrapeUntil(
          "emitter",
          (m) => valueOf(m, "berth_publish_retries_total", { node: NODE }) > valueOf(e0, "berth_publish_retries_total", { node: NODE }),
          "the emitter retrying the publish",
        );
      },
    });
    for (const who of ["emitter", "handler"] as const)
      await waitFor(async () => (await readyz(who)).status === 200, { what: `${who} ready again`, timeoutMs: 20_000 });
    await waitFor(() => ownedBy(id).length === 1, { what: "the container started while NATS was down registered", timeoutMs: 20_000 });
    const e1 = await scrape("emitter");
    assert.equal(
      valueOf(e1, "berth_events_published_total", { type: STARTED, node: NODE }) -
        valueOf(e0, "berth_events_published_total", { type: STARTED, node: NODE }),
      1,
    );
    await settled();
  });

  test("metrics - the metrics table in docs/operating.md names every exported metric with its type, labels and process, and nothing else", async (t) => {
    if (!prerequisites(t)) return;
    const readme = readFileSync(new URL("../docs/operating.md", import.meta.url), "utf8");
    const section = readme.slice(readme.indexOf("### Metrics"), readme.indexOf("### `berth status`"));
    const rows = [...section.matchAll(/^\| `([a-z0-9_]+)` \| (\w+) \| ([^|]+) \| (\w+) \|/gm)].map(([, name, type, labels, where]) => ({
      name: name!,
      type: type!,
      labels: [...labels!.matchAll(/`(\w+)`/g)].map((m) => m[1]!).sort(),
      where: where!,
    }));
    assert.ok(rows.length >= 10, `the table was found (${rows.length} rows)`);
    for (const who of ["emitter", "handler"] as const) {
      const m = await scrape(who);
      const documented = rows.filter((r) => r.where === who || r.where === "both");
      assert.deepEqual(documented.map((r) => [r.name, r.type]).sort(), [...m.families.values()].map((f) => [f.name, f.type]).sort(), who);
      for (const r of documented) {
        const samples = m.families.get(r.name)!.samples;
        // Labels are only visible once a series exists; by now every labelled one of ours has one but the emitter's dead letters.
        if (samples.length > 0)
          assert.deepEqual(
            Object.keys(samples[0]!.labels)
              .filter((l) => l !== "le")
              .sort(),
            r.labels,
            `${who} ${r.name}`,
          );
      }
    }
  });

  test("metrics - every metric examples/prometheus-alerts.yaml and examples/grafana-dashboard.json name is exported by the emitter or the handler", async (t) => {
    if (!prerequisites(t)) return;
    const exported = new Set(["up"]); // Prometheus' own, per scrape target
    for (const who of ["emitter", "handler"] as const)
      for (const family of (await scrape(who)).families.values()) for (const name of seriesNames(family)) exported.add(name);
    const unknown = [
      ...alertExpressions().map((a) => ({ where: `alert ${a.alert}`, expr: a.expr })),
      ...dashboardExpressions().map((q) => ({ where: `panel ${q.panel}`, expr: q.expr })),
    ].flatMap(({ where, expr }) =>
      metricNames(expr)
        .filter((name) => !exported.has(name))
        .map((name) => `${where}: ${name}`),
    );
    assert.deepEqual(unknown, []);
  });
});
