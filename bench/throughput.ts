// Item 2: sustained events/s with 1 and with 2 handler processes, beside the floor (bare pull →
// PUT → ack workers). A backlog is published first, then the workers start and drain it; the rate
// is taken between 10 % and 90 % of the registrations (sustained: start-up and tail left out).
// As in latency.ts, the node has a snapshot of 1,000 running containers. Rounds alternate floor
// and berth (floor 1, berth 1, floor 2, berth 2), each run with workers started fresh for it, so
// the spread over rounds shows the machine's noise and each floor is checked against its figure.
import { toContainerEvent } from "../schemas/index.ts";
import { normaliseContainer } from "../emitter/normalise.ts";
import { waitFor } from "../test/harness/wait.ts";
import { startFloorWorker, startHandlers, stopAll } from "./children.ts";
import type { FastAgent } from "./fast-agent.ts";
import { checkFloor, spreadOf } from "./floor-check.ts";
import { openFloorBus } from "./floor-publish.ts";
import { cpuMs, round, sustainedRate, windowed } from "./measure.ts";
import { quick } from "./quick.ts";
import { THROUGHPUT_TARGETS } from "./targets.ts";
import { BENCH_NODE, announceNode, containerId, inspectOf, syntheticEmitter } from "./synthetic.ts";
import { spawnOtlpSink } from "./otlp-sink.ts";
import { registerCleanup } from "../test/harness/cleanup.ts";

type Nats = { url: string; pid: number };

/** Events per run, messages in flight per worker, publishes in flight while the backlog is made, rounds. */
const RUN = { events: quick(12_000, 2_000), concurrency: 64, publishWindow: 256, rounds: quick(3, 2) } as const;

/** CPU of the workers, of nats-server and of this process (the agent), in µs per event. */
type CpuSplit = { workers: number; nats_server: number; agent_and_bench: number };

async function drain(agent: FastAgent, ids: readonly string[], workerPids: readonly number[], natsPid: number, what: string) {
  const cpu = () => ({ workers: workerPids.reduce((sum, pid) => sum + cpuMs(pid), 0), nats: cpuMs(natsPid), own: process.cpuUsage() });
  const before = cpu();
  await waitFor(() => ids.every((id) => agent.registeredAt.has(id)), { what, timeoutMs: 120_000, intervalMs: 50 });
  const after = cpu();
  const own = process.cpuUsage(before.own);
  const perEvent = (ms: number) => round((ms * 1000) / ids.length, 0);
  const done = ids.map((id) => agent.registeredAt.get(id)!);
  const cpuUsPerEvent: CpuSplit = {
    workers: perEvent(after.workers - before.workers),
    nats_server: perEvent(after.nats - before.nats),
    agent_and_bench: perEvent((own.user + own.system) / 1000),
  };
  return { rate: sustainedRate(done), seconds: round((Math.max(...done) - Math.min(...done)) / 1000), cpuUsPerEvent };
}

/** `traceTo`: an OTLP/HTTP endpoint the handlers export a trace of each event to (tracing on). */
async function berthRun(nats: Nats, agent: FastAgent, workers: number, r: number, traceTo?: string) {
  const prefix = `btp${workers}r${r}${traceTo ? "t" : ""}`;
  const node = prefix; // a node of its own, as in latency.ts
  const ids = Array.from({ length: RUN.events }, (_, i) => containerId(`${prefix}-${i}`));
  const emitter = await syntheticEmitter(nats.url, prefix, node);
  emitter.prepare(ids);
  let publishRate: number;
  try {
    await announceNode(emitter, prefix);
    const published = performance.now();
    await windowed(ids.length, RUN.publishWindow, (i) => emitter.emit(ids[i]!, i));
    publishRate = round(ids.length / ((performance.now() - published) / 1000), 0);
  } finally {
    await emitter.close();
  }
  const handlers = await startHandlers(workers, {
    NATS_URL: nats.url,
    BERTH_PREFIX: prefix,
    BERTH_CONSUL_AGENTS: `${node}=${agent.url}`,
    BERTH_HANDLER_CONCURRENCY: String(RUN.concurrency),
    ...(traceTo ? { OTEL_EXPORTER_OTLP_ENDPOINT: traceTo } : {}),
  });
  let result: Awaited<ReturnType<typeof drain>>;
  let peaks: number[];
  try {
    result = await drain(
      agent,
      ids,
      handlers.map((h) => h.pid),
      nats.pid,
      `${workers} handler(s) drain ${ids.length} events`,
    );
  } finally {
    peaks = await stopAll(handlers);
  }
  return { ...result, publishRate, peaks };
}

async function floorRun(nats: Nats, agent: FastAgent, workers: number, r: number) {
  const bus = await openFloorBus(nats.url, `FLOOR_TP${workers}_${r}`);
  const ids = Array.from({ length: RUN.events }, (_, i) => containerId(`floor-tp${workers}r${r}-${i}`));
  const node = { name: BENCH_NODE, hostIp: "127.0.0.1" };
  const encoder = new TextEncoder();
  try {
    await windowed(ids.length, RUN.publishWindow, async (i) => {
      const event = toContainerEvent(
        "io.berth.container.started",
        node,
        1_700_000_000_000_000_000n + BigInt(i),
        normaliseContainer(inspectOf(ids[i]!, i), []),
      );
      await bus.publish(encoder.encode(JSON.stringify(event)), event.id);
    });
    const env = {
      NATS_URL: nats.url,
      FLOOR_STREAM: bus.stream,
      FLOOR_CONSUMER: bus.consumer,
      AGENT_URL: agent.url,
      CONCURRENCY: String(RUN.concurrency),
    };
    const floorWorkers = await Promise.all(Array.from({ length: workers }, () => startFloorWorker(env)));
    try {
      return await drain(
        agent,
        ids,
        floorWorkers.map((w) => w.pid),
        nats.pid,
        `${workers} floor worker(s) drain ${ids.length} events`,
      );
    } finally {
      await Promise.all(floorWorkers.map((w) => w.stop()));
    }
  } finally {
    await bus.close();
  }
}

type Run = Awaited<ReturnType<typeof drain>>;

export async function measureThroughput(nats: Nats, agent: FastAgent) {
  const runs = { floor1: [] as Run[], berth1: [] as Run[], floor2: [] as Run[], berth2: [] as Run[], traced1: [] as Run[] };
  const publishRates: number[] = [];
  const peaks: number[] = [];
  const tracedPeaks: number[] = [];
  // Tracing on: the same one-worker run with every event's spans exported (the handler's trace of
  // each registration, started afresh: the synthetic events carry no traceparent).
  const sink = await spawnOtlpSink();
  registerCleanup(
    `OTLP sink (pid ${sink.pid})`,
    () => {
      sink.stop();
      return Promise.resolve();
    },
    sink.stop,
  );
  for (let r = 0; r < RUN.rounds; r++) {
    runs.floor1.push(await floorRun(nats, agent, 1, r));
    const berth1 = await berthRun(nats, agent, 1, r);
    const traced1 = await berthRun(nats, agent, 1, r, sink.url);
    runs.traced1.push(traced1);
    tracedPeaks.push(...traced1.peaks);
    runs.floor2.push(await floorRun(nats, agent, 2, r));
    const berth2 = await berthRun(nats, agent, 2, r);
    runs.berth1.push(berth1);
    runs.berth2.push(berth2);
    publishRates.push(berth2.publishRate);
    peaks.push(...berth1.peaks, ...berth2.peaks);
  }
  const rates = (list: readonly Run[]) => list.map((run) => run.rate);
  const cpu = (list: readonly Run[]) => list.map((run) => run.cpuUsPerEvent.workers);
  const checks = {
    one_worker: checkFloor("throughput, 1 worker", "/s", "higher", rates(runs.berth1), rates(runs.floor1)),
    two_workers: checkFloor("throughput, 2 workers", "/s", "higher", rates(runs.berth2), rates(runs.floor2)),
    cpu_per_event_one_worker: checkFloor("CPU per event, 1 worker", " µs", "lower", cpu(runs.berth1), cpu(runs.floor1)),
  };
  const cpuRatio = checks.cpu_per_event_one_worker.ratio;
  const twoRatio = checks.two_workers.ratio;
  const split = (list: readonly Run[]) => list.map((run) => run.cpuUsPerEvent);
  return {
    events: RUN.events,
    rounds: RUN.rounds,
    concurrency_per_worker: RUN.concurrency,
    berth: {
      one_worker_per_s: checks.one_worker.berth.median,
      two_workers_per_s: checks.two_workers.berth.median,
      scaling: round(checks.two_workers.berth.median / checks.one_worker.berth.median),
      emitter_publish_per_s: spreadOf(publishRates).median,
      cpu_us_per_event_by_round: { one_worker: split(runs.berth1), two_workers: split(runs.berth2) },
    },
    floor: {
      one_worker_per_s: checks.one_worker.floor.median,
      two_workers_per_s: checks.two_workers.floor.median,
      scaling: round(checks.two_workers.floor.median / checks.one_worker.floor.median),
      cpu_us_per_event_by_round: { one_worker: split(runs.floor1), two_workers: split(runs.floor2) },
    },
    tracing_on: {
      one_worker_per_s: spreadOf(rates(runs.traced1)),
      cpu_us_per_event_one_worker: spreadOf(cpu(runs.traced1)),
      cpu_us_per_event_by_round: split(runs.traced1),
      handler_peak_rss_mb: tracedPeaks,
    },
    floor_checks: checks,
    target: `CPU per event (1 worker) ≤ ${THROUGHPUT_TARGETS.cpu_per_event_max_ratio}× the floor's; 2 workers ≥ ${THROUGHPUT_TARGETS.two_workers_min_ratio}× the floor's rate`,
    met: {
      cpu_per_event: cpuRatio !== undefined && cpuRatio <= THROUGHPUT_TARGETS.cpu_per_event_max_ratio,
      two_workers: twoRatio !== undefined && twoRatio >= THROUGHPUT_TARGETS.two_workers_min_ratio,
    },
    handler_peak_rss_mb: peaks,
  };
}
