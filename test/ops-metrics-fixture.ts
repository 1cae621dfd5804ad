// Shared by test/ops-metrics.test.ts: the node and the metrics the issue asks for, the pipeline
// those tests scrape (an emitter on a private dockerd behind a socket proxy, a real nats-server, a
// handler, an agent double; each process on a metrics port of its own choosing), and the probes
// the tests read it with.
import assert from "node:assert/strict";
import type { BerthProcess } from "./berth-process.ts";
import { waitFor } from "./harness/wait.ts";
import { get, metricsPortOf, parseExposition, valueOf, type Exposition } from "./metrics-scrape.ts";
import { startPipeline, type Pipeline } from "./pipeline/index.ts";
import { RUNTIME_METRICS } from "./runtime-metric-names.ts";
import { startSocketProxy, type SocketProxy } from "./socket-proxy.ts";

export const PREFIX = "ops";
export const NODE = "ops1";
export const IP = "127.0.0.41";
export const STARTED = "io.berth.container.started";
export const STOPPED = "io.berth.container.stopped";
export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Every metric the issue asks for, in the process that exports it, with its type. */
export const EXPECTED = {
  emitter: {
    berth_events_published_total: "counter",
    berth_publish_retries_total: "counter",
    berth_events_dead_lettered_total: "counter",
    berth_docker_connected: "gauge",
    ...RUNTIME_METRICS,
  },
  handler: {
    berth_events_applied_total: "counter",
    berth_event_to_agent_seconds: "histogram",
    berth_events_dead_lettered_total: "counter",
    berth_retries_total: "counter",
    berth_agent_errors_total: "counter",
    berth_reconcile_differences_found_total: "counter",
    berth_reconcile_differences_fixed_total: "counter",
    berth_consumer_pending: "gauge",
    berth_consumer_ack_pending: "gauge",
    ...RUNTIME_METRICS,
  },
} as const;

/** Where each process serves /metrics, /healthz and /readyz: set once the pipeline has started. */
export type Urls = { emitter: string; handler: string };

/** The metrics endpoint a process (BERTH_METRICS_PORT=0) says it listens on. */
const metricsUrl = async (proc: BerthProcess, kind: string) =>
  `http://127.0.0.1:${metricsPortOf(await proc.waitForLog((l) => l.msg === "metrics listening", `${kind} metrics port`))}`;

/**
 * The pipeline, with the emitter's Docker behind a socket proxy (so Docker can be made unreachable)
 * and node snapshots every 2 s; fills `urls` once its processes have started.
 */
export async function startOpsPipeline(urls: Urls): Promise<{ p: Pipeline; proxy: SocketProxy }> {
  let proxy: SocketProxy | undefined;
  const p = await startPipeline({
    prefix: PREFIX,
    env: { BERTH_METRICS_PORT: "0", BERTH_METRICS_ADDRESS: "127.0.0.1" },
    nodes: [
      {
        name: NODE,
        ip: IP,
        engine: "docker",
        emitter: { dockerHost: async (engine) => (proxy = await startSocketProxy(engine.socketPath)).host },
      },
    ],
    resyncSeconds: 2,
    bus: true,
  });
  if (p.started) {
    urls.emitter = await metricsUrl(p.emitter(NODE), "emitter");
    urls.handler = await metricsUrl(p.handlers[0]!, "handler");
  }
  return { p, proxy: proxy! };
}

/** What the tests ask of the pipeline (`pipeline()`, once before() has started it) and of its processes at `urls`. */
export function opsProbes(pipeline: () => Pipeline, urls: Urls) {
  const scrape = async (who: keyof typeof urls): Promise<Exposition> => {
    const res = await get(`${urls[who]}/metrics`);
    assert.equal(res.status, 200, res.body);
    return parseExposition(res.body);
  };
  /** Scrapes `who` until `ok` holds of a sample, and returns that sample. */
  const scrapeUntil = (who: keyof typeof urls, ok: (m: Exposition) => boolean, what: string, timeoutMs?: number) =>
    waitFor(
      async () => {
        const m = await scrape(who);
        return ok(m) && m;
      },
      { what, ...(timeoutMs === undefined ? {} : { timeoutMs }) },
    );
  const readyz = async (who: keyof typeof urls) => {
    const r = await get(`${urls[who]}/readyz`);
    return { status: r.status, checks: (JSON.parse(r.body) as { checks: Record<string, boolean> }).checks };
  };
  const ownedBy = (id: string) => Object.values(pipeline().agent(NODE).services()).filter((s) => s.Meta["berth_container"] === id);
  const run = (...args: string[]) => pipeline().run(NODE, ...args);
  /** The agent holds the mapping of every running container (the oracle), and the handler has nothing left to do. */
  const settled = async () => {
    await pipeline().converged([NODE]);
    return waitFor(
      async () => {
        const m = await scrape("handler");
        return valueOf(m, "berth_consumer_pending") === 0 && valueOf(m, "berth_consumer_ack_pending") === 0 && m;
      },
      { what: "no consumer lag", timeoutMs: 20_000 },
    );
  };
  return { scrape, scrapeUntil, readyz, ownedBy, run, settled };
}
