// Item 3: real Docker bursts on a private dockerd, with the real emitter and two handlers:
// 50 `docker run -d` at once → time from the last one returning to all 50 registered; then 50
// `docker kill` at once → time to all 50 gone. The floor is Docker itself: when its own event
// stream (read here without berth) showed the 50th start / die, after the same moment.
import { request } from "node:http";
import { createInterface } from "node:readline";
import { OWNER_META } from "../mapping/meta.ts";
import type { BerthProcess } from "../test/berth-process.ts";
import { docker } from "../test/harness/docker-cli.ts";
import { startDockerd, type PrivateDockerEngine } from "../test/harness/dockerd.ts";
import { TEST_IMAGE, ensureTestImage } from "../test/harness/image.ts";
import { waitFor } from "../test/harness/wait.ts";
import { startEmitter, startHandlers, stopAll } from "./children.ts";
import type { FastAgent } from "./fast-agent.ts";
import { peakRssMb, percentile, round } from "./measure.ts";

/** Containers per burst. */
const CONTAINERS = 50;
const NODE = "burst";

/**
 * Docker's own /events (start, die), read over the engine's socket: the time Docker gives each (its
 * clock is this machine's), not when this busy process got to read it.
 */
export function dockerEvents(engine: PrivateDockerEngine) {
  const seen = { start: new Map<string, number>(), die: new Map<string, number>() };
  const filters = encodeURIComponent(JSON.stringify({ type: ["container"], event: ["start", "die"] }));
  let closeStream = () => {};
  const opened = new Promise<void>((resolve, reject) => {
    const req = request({ socketPath: engine.socketPath, path: `/events?filters=${filters}` }, (res) => {
      closeStream = () => res.destroy();
      // A reset stream (the engine stopping) ends the record; what it saw stays. Unhandled, it would end the run.
      res.on("error", () => undefined);
      resolve();
      createInterface({ input: res }).on("line", (line) => {
        const event = JSON.parse(line) as { Action: string; Actor: { ID: string }; timeNano: number };
        const at = event.timeNano / 1e6 - performance.timeOrigin;
        if (event.Action === "start" || event.Action === "die") seen[event.Action].set(event.Actor.ID, at);
      });
    });
    req.on("error", reject);
    req.end();
  });
  return { seen, opened, close: () => closeStream() };
}

const lastOf = (ids: readonly string[], times: ReadonlyMap<string, number>) => Math.max(...ids.map((id) => times.get(id) ?? Number.NaN));

/** Runs `action` for every index at once; resolves with each result and the moment the last one returned. */
async function allAtOnce<T>(
  count: number,
  action: (i: number) => Promise<T>,
): Promise<{ results: T[]; lastReturned: number; seconds: number }> {
  const started = performance.now();
  let lastReturned = 0;
  const results = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const result = await action(i);
      lastReturned = Math.max(lastReturned, performance.now());
      return result;
    }),
  );
  return { results, lastReturned, seconds: round((lastReturned - started) / 1000) };
}

/** Per container: when berth's change reached the agent after Docker's own event for it. */
function lagAfterDocker(ids: readonly string[], docker: ReadonlyMap<string, number>, agent: ReadonlyMap<string, number>) {
  const lags = ids.map((id) => agent.get(id)! - docker.get(id)!).filter((v) => Number.isFinite(v));
  return { p50_ms: round(percentile(lags, 50), 1), max_ms: round(Math.max(...lags), 1) };
}

/** Waits until `done(id)` holds for every container; on the deadline, says which did not and what berth logged about one. */
async function waitForAll(ids: readonly string[], done: (id: string) => boolean, what: string, logs: () => string[]): Promise<void> {
  try {
    await waitFor(() => ids.every(done), { what, timeoutMs: 60_000 });
  } catch (err) {
    const left = ids.filter((id) => !done(id));
    const about = logs().filter((line) => line.includes(left[0]!.slice(0, 12)));
    throw new Error(`${(err as Error).message}: ${left.length} not, e.g. ${left[0]}; berth's log lines about it:\n${about.join("\n")}`, {
      cause: err,
    });
  }
}

/**
 * When the emitter published each container's event of `type` (its `published` log line), on this
 * process's performance.now() clock: where the time after Docker's event goes, emitter or handlers.
 */
function publishedAt(emitter: BerthProcess, type: string): Map<string, number> {
  const at = new Map<string, number>();
  for (const l of emitter.logs) {
    if (l.msg === "published" && l.type === type && typeof l.container === "string" && typeof l.time === "number")
      at.set(l.container, l.time - performance.timeOrigin);
  }
  return at;
}

async function burst(
  engine: PrivateDockerEngine,
  agent: FastAgent,
  n: number,
  seen: ReturnType<typeof dockerEvents>["seen"],
  emitter: BerthProcess,
  logs: () => string[],
) {
  const owned = (ids: readonly string[]) => {
    const have = new Set(agent.ownedBy(NODE).map((s) => s.Meta[OWNER_META.container]));
    return ids.filter((id) => have.has(id)).length;
  };
  const run = await allAtOnce(n, (i) =>
    docker(engine, "run", "-d", "--pull=never", "--name", `burst-${i}`, "-e", "SERVICE_NAME=burst", "-p", "8080", TEST_IMAGE),
  );
  const ids = run.results;
  await waitForAll(ids, (id) => agent.registeredAt.has(id), `${n} containers registered`, logs);
  const registered = owned(ids);
  const kill = await allAtOnce(n, (i) => docker(engine, "kill", ids[i]!));
  await waitForAll(ids, (id) => agent.goneAt.has(id), `${n} containers deregistered`, logs);
  const gone = n - owned(ids);
  const registeredAfter = lastOf(ids, agent.registeredAt) - run.lastReturned;
  return {
    registeredAfter,
    result: {
      start: {
        docker_run_all_s: run.seconds,
        all_registered_after_last_start_ms: round(registeredAfter, 1),
        floor_docker_last_start_event_ms: round(lastOf(ids, seen.start) - run.lastReturned, 1),
        registered,
        each_registered_after_its_docker_event: lagAfterDocker(ids, seen.start, agent.registeredAt),
        each_published_by_the_emitter_after_its_docker_event: lagAfterDocker(
          ids,
          seen.start,
          publishedAt(emitter, "io.berth.container.started"),
        ),
      },
      kill: {
        docker_kill_all_s: kill.seconds,
        all_gone_after_last_kill_ms: round(lastOf(ids, agent.goneAt) - kill.lastReturned, 1),
        floor_docker_last_die_event_ms: round(lastOf(ids, seen.die) - kill.lastReturned, 1),
        gone,
        each_gone_after_its_docker_event: lagAfterDocker(ids, seen.die, agent.goneAt),
        each_published_by_the_emitter_after_its_docker_event: lagAfterDocker(
          ids,
          seen.die,
          publishedAt(emitter, "io.berth.container.stopped"),
        ),
      },
      complete: registered === n && gone === n,
    },
  };
}

export async function measureDockerBurst(natsUrl: string, agent: FastAgent) {
  const n = CONTAINERS;
  const engine = await startDockerd({ name: "bench", ip: "127.0.0.77" });
  const env = { NATS_URL: natsUrl, BERTH_PREFIX: "bburst" };
  let events: ReturnType<typeof dockerEvents> | undefined;
  try {
    await ensureTestImage(engine);
    events = dockerEvents(engine);
    await events.opened;
    const emitter = await startEmitter({ ...env, DOCKER_HOST: engine.host, BERTH_NODE: NODE, BERTH_HOST_IP: engine.ip });
    let measured: Awaited<ReturnType<typeof burst>> | undefined;
    let emitterPeak: number | undefined;
    let handlerPeaks: number[] = [];
    try {
      await emitter.waitForLog((l) => l.msg === "watching docker", "emitter watching docker", 30_000);
      const handlers = await startHandlers(2, { ...env, BERTH_CONSUL_AGENTS: `${NODE}=${agent.url}` });
      const logs = () => [emitter, ...handlers].flatMap((p) => [...p.logs.map((l) => JSON.stringify(l)), ...p.stderr]);
      try {
        measured = await burst(engine, agent, n, events.seen, emitter, logs);
      } finally {
        handlerPeaks = await stopAll(handlers);
      }
    } finally {
      emitterPeak = peakRssMb(emitter.pid);
      await emitter.stop();
    }
    return {
      containers: n,
      ...measured.result,
      target: `all registered ≤ 1 s after the last start; ${n}/${n} registered and gone`,
      met: measured.registeredAfter <= 1000 && measured.result.complete,
      emitter_peak_rss_mb: emitterPeak,
      handler_peak_rss_mb: handlerPeaks,
    };
  } finally {
    events?.close();
    await engine.stop();
  }
}
