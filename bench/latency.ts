// Item 1: pipeline latency at a steady rate, from a Docker event reaching the emitter to the
// registration stored in the agent, beside the floor (bare publish → pull → PUT), in alternating
// rounds so both see the same machine; each round's p50 and p99 give the spread, and the floor is
// checked against berth's figure over the rounds. The node has a snapshot of 1,000 running containers, as a
// busy node would: every start is checked against it.
import { writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { toContainerEvent } from "../schemas/index.ts";
import { normaliseContainer } from "../emitter/normalise.ts";
import { waitFor } from "../test/harness/wait.ts";
import { startFloorWorker, startHandlers, stopAll, type Launch } from "./children.ts";
import type { FastAgent } from "./fast-agent.ts";
import { checkFloor } from "./floor-check.ts";
import { openFloorBus } from "./floor-publish.ts";
import { percentile, round } from "./measure.ts";
import { quick } from "./quick.ts";
import { BENCH_NODE, announceNode, containerId, inspectOf, syntheticEmitter } from "./synthetic.ts";

/** Events/s; measured rounds of `perRound` events each, after a warm-up; workers of each kind, messages in flight per worker. */
const RUN = { rate: 100, rounds: quick(4, 2), perRound: quick(250, 50), warmup: quick(200, 50), workers: 2, concurrency: 64 } as const;

type Sent = { id: string; t0: number; acked?: number };

/** Sends `count` events at `rate`/s without waiting for one before the next (open loop). */
async function paced(count: number, rate: number, send: (i: number) => Promise<void>): Promise<void> {
  const start = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    pending.push(send(i));
  }
  await Promise.all(pending);
}

function summary(agent: FastAgent, sent: readonly Sent[]) {
  const total = sent.map((s) => agent.registeredAt.get(s.id)! - s.t0);
  const acked = sent.map((s) => s.acked! - s.t0);
  return {
    samples: sent.length,
    p50_ms: round(percentile(total, 50)),
    p99_ms: round(percentile(total, 99)),
    max_ms: round(Math.max(...total)),
    publish_ack_p50_ms: round(percentile(acked, 50)),
    publish_ack_p99_ms: round(percentile(acked, 99)),
  };
}

/** `launch`: the handlers as the image runs them, or as `npm run handler` runs them in a clone. */
export async function measureLatency(natsUrl: string, agent: FastAgent, launch: Launch = "image") {
  const o = RUN;
  const floorBus = await openFloorBus(natsUrl, launch === "image" ? "FLOOR_LAT" : "FLOOR_LAT_CLONE");
  const floorWorkers = await Promise.all(
    Array.from({ length: o.workers }, () =>
      startFloorWorker({
        NATS_URL: natsUrl,
        FLOOR_STREAM: floorBus.stream,
        FLOOR_CONSUMER: floorBus.consumer,
        AGENT_URL: agent.url,
        CONCURRENCY: String(o.concurrency),
      }),
    ),
  );
  const prefix = launch === "image" ? "blat" : "blatclone";
  // A node of its own, so the snapshot's reconciliation never touches another phase's services in the shared agent.
  const node = prefix;
  const emitter = await syntheticEmitter(natsUrl, prefix, node);
  await announceNode(emitter, prefix);
  const handlers = await startHandlers(
    o.workers,
    {
      NATS_URL: natsUrl,
      BERTH_PREFIX: prefix,
      BERTH_CONSUL_AGENTS: `${node}=${agent.url}`,
      BERTH_HANDLER_CONCURRENCY: String(o.concurrency),
    },
    launch,
  );
  const floorRounds: Sent[][] = [];
  const berthRounds: Sent[][] = [];
  const encoder = new TextEncoder();

  const floorRound = async (label: string, count: number, keep: boolean) => {
    const ids = Array.from({ length: count }, (_, i) => containerId(`floor-${label}-${i}`));
    // The payload a real emitter would send, made before anything is timed.
    const events = ids.map((id, i) =>
      toContainerEvent(
        "io.berth.container.started",
        { name: BENCH_NODE, hostIp: "127.0.0.1" },
        BigInt(Date.now()) * 1_000_000n + BigInt(i),
        normaliseContainer(inspectOf(id, i), []),
      ),
    );
    const sent = ids.map((id): Sent => ({ id, t0: 0 }));
    await paced(count, o.rate, async (i) => {
      const s = sent[i]!;
      s.t0 = performance.now();
      await floorBus.publish(encoder.encode(JSON.stringify(events[i])), events[i]!.id);
      s.acked = performance.now();
    });
    await waitFor(() => ids.every((id) => agent.registeredAt.has(id)), { what: `floor round ${label} registered`, timeoutMs: 30_000 });
    if (keep) floorRounds.push(sent);
  };
  const berthRound = async (label: string, count: number, keep: boolean) => {
    const ids = Array.from({ length: count }, (_, i) => containerId(`berth-${label}-${i}`));
    emitter.prepare(ids);
    const sent = ids.map((id): Sent => ({ id, t0: 0 }));
    await paced(count, o.rate, async (i) => {
      const s = sent[i]!;
      s.t0 = performance.now();
      await emitter.emit(s.id, i);
      s.acked = performance.now();
    });
    await waitFor(() => ids.every((id) => agent.registeredAt.has(id)), { what: `berth round ${label} registered`, timeoutMs: 30_000 });
    if (keep) berthRounds.push(sent);
  };

  let handlerPeaks: number[];
  try {
    await floorRound("warmup", o.warmup, false);
    await berthRound("warmup", o.warmup, false);
    for (let r = 0; r < o.rounds; r++) {
      await floorRound(String(r), o.perRound, true);
      await berthRound(String(r), o.perRound, true);
    }
  } finally {
    handlerPeaks = await stopAll(handlers);
    await Promise.all(floorWorkers.map((w) => w.stop()));
    await emitter.close();
    await floorBus.close();
  }
  const floorSent = floorRounds.flat();
  const berthSent = berthRounds.flat();
  if (process.env.BENCH_LATENCY_SAMPLES)
    writeFileSync(
      process.env.BENCH_LATENCY_SAMPLES,
      JSON.stringify({
        berth: berthSent.map((s) => [s.t0, s.acked, agent.registeredAt.get(s.id)]),
        floor: floorSent.map((s) => [s.t0, s.acked, agent.registeredAt.get(s.id)]),
      }),
    );
  const berth = summary(agent, berthSent);
  const floor = summary(agent, floorSent);
  const perRound = (rounds: readonly Sent[][], p: number) =>
    rounds.map((sent) =>
      percentile(
        sent.map((s) => agent.registeredAt.get(s.id)! - s.t0),
        p,
      ),
    );
  const checks = {
    p50: checkFloor("latency p50", " ms", "lower", perRound(berthRounds, 50), perRound(floorRounds, 50)),
    p99: checkFloor("latency p99", " ms", "lower", perRound(berthRounds, 99), perRound(floorRounds, 99)),
  };
  const p99Ratio = checks.p99.ratio;
  return {
    launch,
    rate_per_s: o.rate,
    workers: o.workers,
    rounds: o.rounds,
    berth,
    floor,
    floor_checks: checks,
    target: "p99 ≤ 5 ms and ≤ 2× floor",
    met: berth.p99_ms <= 5 && p99Ratio !== undefined && p99Ratio <= 2,
    handler_peak_rss_mb: handlerPeaks,
  };
}
