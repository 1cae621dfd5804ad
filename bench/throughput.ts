// Item 2: sustained events/s with 1 and with 2 handler processes, beside the floor (bare pull →
// PUT → ack workers). A backlog is published first, then the workers start and drain it; the rate
// is taken between 10 % and 90 % of the registrations (sustained: start-up and tail left out).
// As in latency.ts, the node has a snapshot of 1,000 running containers.
import { toContainerEvent } from "../schemas/index.ts";
import { normaliseContainer } from "../emitter/normalise.ts";
import { waitFor } from "../test/harness/wait.ts";
import { startFloorWorker, startHandlers, stopAll } from "./children.ts";
import type { FastAgent } from "./fast-agent.ts";
import { openFloorBus } from "./floor-publish.ts";
import { cpuMs, round, sustainedRate, windowed } from "./measure.ts";
import { BENCH_NODE, announceNode, containerId, inspectOf, syntheticEmitter } from "./synthetic.ts";

type Nats = { url: string; pid: number };

/** Events per run, messages in flight per worker, publishes in flight while the backlog is made. */
const RUN = { events: 12_000, concurrency: 64, publishWindow: 256 } as const;

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

async function berthRun(nats: Nats, agent: FastAgent, workers: number) {
  const prefix = `btp${workers}`;
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

async function floorRun(nats: Nats, agent: FastAgent, workers: number) {
  const bus = await openFloorBus(nats.url, `FLOOR_TP${workers}`);
  const ids = Array.from({ length: RUN.events }, (_, i) => containerId(`floor-tp${workers}-${i}`));
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

export async function measureThroughput(nats: Nats, agent: FastAgent) {
  const floor1 = await floorRun(nats, agent, 1);
  const berth1 = await berthRun(nats, agent, 1);
  const floor2 = await floorRun(nats, agent, 2);
  const berth2 = await berthRun(nats, agent, 2);
  return {
    events: RUN.events,
    concurrency_per_worker: RUN.concurrency,
    berth: {
      one_worker_per_s: berth1.rate,
      two_workers_per_s: berth2.rate,
      scaling: round(berth2.rate / berth1.rate),
      emitter_publish_per_s: berth2.publishRate,
      cpu_us_per_event: { one_worker: berth1.cpuUsPerEvent, two_workers: berth2.cpuUsPerEvent },
    },
    floor: {
      one_worker_per_s: floor1.rate,
      two_workers_per_s: floor2.rate,
      scaling: round(floor2.rate / floor1.rate),
      cpu_us_per_event: { one_worker: floor1.cpuUsPerEvent, two_workers: floor2.cpuUsPerEvent },
    },
    ratio_to_floor: { one_worker: round(berth1.rate / floor1.rate), two_workers: round(berth2.rate / floor2.rate) },
    target: "≥ 5,000 events/s with 2 workers; scaling 1→2 against the 1.2–1.5× bound of 2 cores",
    met: berth2.rate >= 5000,
    handler_peak_rss_mb: [...berth1.peaks, ...berth2.peaks],
  };
}
