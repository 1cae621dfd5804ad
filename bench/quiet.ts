// Item: the quiet host, the case users meet every day. A private dockerd, berth's compiled emitter
// and two handlers, and beside them the floor's publisher and two workers (bench/floor-quiet.ts),
// all started together. In each round, one event every `spacing` ms on the host: berth's container
// started (Docker's API, from this process), the floor's started, berth's killed, the floor's
// stopped — so berth's processes and the floor's sleep equally long (2 spacings) before each start.
// Berth: `start` returned → registered in the agent, `kill` returned → last service removed. Floors:
// Docker's own events (relative to the same moments), one bus hop (publish → consumed) and the bare
// publish → pull → PUT. The first rounds warm both up and are not counted.
import { setTimeout as sleep } from "node:timers/promises";
import { startDockerd } from "../test/harness/dockerd.ts";
import { ensureTestImage } from "../test/harness/image.ts";
import { waitFor } from "../test/harness/wait.ts";
import type { BerthProcess } from "../test/berth-process.ts";
import { startEmitter, startHandlers, stopAll, type Launch } from "./children.ts";
import { dockerEvents } from "./docker-burst.ts";
import type { FastAgent } from "./fast-agent.ts";
import { startQuietFloor, type QuietFloor } from "./floor-quiet.ts";
import { percentile, round } from "./measure.ts";
import { quick } from "./quick.ts";
import { createQuietContainer, dockerApi } from "./quiet-docker.ts";
import { QUIET_TARGET } from "./targets.ts";
import { quietVerdict, statsOf, type QuietVerdict, type Stats } from "./quiet-verdict.ts";

const NODE = "quiet";
/** Counted rounds per spacing (BENCH_QUIET_SAMPLES to change them), after WARMUP_ROUNDS that are not. */
const ROUNDS: Record<number, number> = { 500: quick(30, 4), 5_000: quick(20, 3) };
const WARMUP_ROUNDS = quick(2, 1);
/** BENCH_QUIET_SPACINGS=500 runs only that spacing (e.g. for a profile). */
const QUIET_SPACINGS_MS = (process.env.BENCH_QUIET_SPACINGS?.split(",").map(Number) ?? [500, 5_000]) as readonly number[];
const WAIT = { timeoutMs: 10_000, intervalMs: 5 } as const;

/**
 * The median of each step the emitter and the handlers timed (their debug lines), over every event,
 * a start's apart from a stop's: they take different paths (a just-happened start registers while
 * its state is recorded; a stop reads its state first and lists the agent).
 */
function stepMedians(processes: readonly BerthProcess[], registeredAtMs: ReadonlyMap<string, number>) {
  const median = (lines: readonly Record<string, unknown>[], f: string) =>
    round(
      percentile(
        lines.map((l) => Number(l[f])),
        50,
      ),
    );
  const out: Record<string, Record<string, number>> = {};
  for (const [kind, emitted, applied] of [
    ["start", "start", "io.berth.container.started"],
    ["stop", "die", "io.berth.container.stopped"],
  ] as const) {
    const lines = processes.flatMap((p) => p.logs);
    const emits = lines.filter((l) => l.msg === "emit timing" && l.action === emitted);
    const applies = lines.filter((l) => l.msg === "apply timing" && l.type === applied);
    const steps: Record<string, number> = {};
    for (const f of ["since_docker_ms", "inspect_ms", "waited_turn_ms", "publish_ms"]) steps[f] = median(emits, f);
    for (const f of ["decode_ms", "record_ms", "apply_ms", "reread_ms"]) steps[f] = median(applies, f);
    if (kind === "start") {
      steps.registered_early_share = round(applies.filter((l) => l.early === true).length / Math.max(1, applies.length));
      // Across processes, on the machine's clock: the emitter's publish → a handler has the message
      // (the bus hop inside berth's path), and that arrival → the agent has the registration.
      const publishedAt = new Map(emits.map((l) => [String(l.container), Number(l.publish_at_ms)]));
      const hop: number[] = [];
      const toAgent: number[] = [];
      for (const l of applies) {
        const container = String(l.container);
        const published = publishedAt.get(container);
        const registered = registeredAtMs.get(container);
        if (published !== undefined) hop.push(Number(l.received_at_ms) - published);
        if (registered !== undefined) toAgent.push(registered - Number(l.received_at_ms));
      }
      steps.publish_to_received_ms = round(percentile(hop, 50));
      steps.received_to_registered_ms = round(percentile(toAgent, 50));
    }
    out[kind] = steps;
  }
  return out;
}

/** One spacing's figures: berth's, the floors beside them, and the verdict. */
export type QuietSpacing = {
  rounds: number;
  warmup_rounds: number;
  start_returned_to_registered: Stats;
  kill_returned_to_removed: Stats;
  floor_docker_start_event: Stats;
  floor_docker_die_event: Stats;
  floor_hop_publish_to_consumed: Stats;
  floor_publish_pull_put: Stats;
  floor_checks: QuietVerdict["checks"];
  target: QuietVerdict["target"];
  met: boolean;
};

export type QuietOptions = { launch: Launch; rounds?: number; spacings: readonly number[] };

/** The item as `npm run bench` runs it: the image's processes at each spacing. */
const QUIET_IMAGE: QuietOptions = { launch: "image", spacings: QUIET_SPACINGS_MS };

/** The same with berth as `npm run emitter|handler` runs them in a clone: for its memory, fewer rounds. */
export const QUIET_CLONE: QuietOptions = { launch: "clone", rounds: quick(10, 2), spacings: [500] };

const roundsAt = (spacing: number, o: QuietOptions) =>
  Number(process.env.BENCH_QUIET_SAMPLES ?? o.rounds ?? ROUNDS[spacing] ?? quick(20, 3)) + WARMUP_ROUNDS;

export async function measureQuiet(natsUrl: string, agent: FastAgent, o: QuietOptions = QUIET_IMAGE) {
  const { launch } = o;
  const engine = await startDockerd({ name: "quiet", ip: "127.0.0.78" });
  await ensureTestImage(engine);
  const events = dockerEvents(engine);
  await events.opened;
  // At debug level the processes log each event's step timings ("emit timing", "apply timing").
  const env = { NATS_URL: natsUrl, BERTH_PREFIX: `bquiet${launch}`, LOG_LEVEL: "debug" };
  const emitter = await startEmitter(
    { ...env, DOCKER_HOST: engine.host, BERTH_NODE: NODE, BERTH_HOST_IP: engine.ip, BERTH_RESYNC_SECONDS: "0" },
    launch,
  );
  const processes: BerthProcess[] = [emitter];
  let floor: QuietFloor | undefined;
  let k = 0; // the floor's containers, in the order its publisher has them
  try {
    await emitter.waitForLog((l) => l.msg === "watching docker", "emitter watching docker", 30_000);
    const floorOptions = { name: `FLOOR_QUIET_${launch.toUpperCase()}`, node: `${NODE}-floor`, hostIp: engine.ip, workers: 2 };
    const containers = o.spacings.reduce((sum, s) => sum + roundsAt(s, o), 0);
    const [handlers, started] = await Promise.all([
      startHandlers(2, { ...env, BERTH_CONSUL_AGENTS: `${NODE}=${agent.url}` }, launch),
      startQuietFloor(natsUrl, agent, { ...floorOptions, containers }),
    ]);
    processes.push(...handlers);
    floor = started;
    const bySpacing: Record<string, QuietSpacing> = {};
    /** When the agent had each counted start's registration, on the machine's clock (the step timings' clock). */
    const registeredAtMs = new Map<string, number>();
    for (const spacing of o.spacings) {
      const s = {
        start: [] as number[],
        kill: [] as number[],
        dockerStart: [] as number[],
        dockerDie: [] as number[],
        hop: [] as number[],
        whole: [] as number[],
      };
      const rounds = roundsAt(spacing, o);
      let id = await createQuietContainer(engine, `quiet-${launch}-${spacing}-0`);
      for (let r = 0; r < rounds; r++) {
        const counted = r >= WARMUP_ROUNDS;
        await sleep(spacing);
        await dockerApi(engine, "POST", `/containers/${id}/start`);
        const started = performance.now();
        await waitFor(() => agent.registeredAt.has(id), { what: "the quiet container registered", ...WAIT });
        await sleep(spacing);
        const floorSample = await floor.start(k);
        await sleep(spacing);
        await dockerApi(engine, "POST", `/containers/${id}/kill`);
        const killed = performance.now();
        await waitFor(() => agent.goneAt.has(id), { what: "the quiet container removed", ...WAIT });
        if (counted) {
          registeredAtMs.set(id, performance.timeOrigin + agent.registeredAt.get(id)!);
          s.start.push(agent.registeredAt.get(id)! - started);
          s.kill.push(agent.goneAt.get(id)! - killed);
          s.dockerStart.push(events.seen.start.get(id)! - started);
          s.dockerDie.push(events.seen.die.get(id)! - killed);
          s.hop.push(floorSample.hop_ms);
          s.whole.push(floorSample.whole_ms);
        }
        await dockerApi(engine, "DELETE", `/containers/${id}?force=true`);
        if (r + 1 < rounds) id = await createQuietContainer(engine, `quiet-${launch}-${spacing}-${r + 1}`);
        await sleep(spacing);
        await floor.stop(k++);
      }
      const verdict = quietVerdict(s.start, s.hop, s.whole, `every ${spacing} ms`);
      bySpacing[`every_${spacing}_ms`] = {
        rounds: rounds - WARMUP_ROUNDS,
        warmup_rounds: WARMUP_ROUNDS,
        start_returned_to_registered: statsOf(s.start),
        kill_returned_to_removed: statsOf(s.kill),
        floor_docker_start_event: statsOf(s.dockerStart),
        floor_docker_die_event: statsOf(s.dockerDie),
        floor_hop_publish_to_consumed: statsOf(s.hop),
        floor_publish_pull_put: statsOf(s.whole),
        floor_checks: verdict.checks,
        target: verdict.target,
        met: verdict.met,
      };
    }
    const steps = stepMedians(processes, registeredAtMs);
    const [emitterPeak, ...handlerPeaks] = await stopAll(processes);
    return {
      launch,
      target: `start returned → registered: median ≤ hop floor + ${QUIET_TARGET.median_over_hop_ms} ms, p90 ≤ hop floor + ${QUIET_TARGET.p90_over_hop_ms} ms`,
      spacings: bySpacing,
      steps_median_ms: steps,
      emitter_peak_rss_mb: emitterPeak,
      handler_peak_rss_mb: handlerPeaks,
    };
  } finally {
    await stopAll(processes);
    await floor?.close();
    events.close();
    await engine.stop();
  }
}
