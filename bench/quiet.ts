// Item: the quiet host, the case users meet every day. A private dockerd, berth's compiled emitter
// and two handlers; one container started (Docker's API, from this process) every `spacing` ms,
// then killed `spacing` ms later: time from `start` returning to the registration stored in the
// agent, and from `kill` returning to the last service removed. Beside it, in the same run: when
// Docker's own event came (relative to the same moment), and a bare publish → pull → PUT of the
// same event bytes on connections idle as long (bench/floor-*.ts).
import { request } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { normaliseContainer } from "../emitter/normalise.ts";
import { toContainerEvent } from "../schemas/index.ts";
import { startDockerd, type PrivateDockerEngine } from "../test/harness/dockerd.ts";
import { RUN_LABEL_KEY, RUN_ID } from "../test/harness/docker-cli.ts";
import { TEST_IMAGE, ensureTestImage } from "../test/harness/image.ts";
import { waitFor } from "../test/harness/wait.ts";
import type { BerthProcess } from "../test/berth-process.ts";
import { startEmitter, startFloorWorker, startHandlers, stopAll, type Launch } from "./children.ts";
import { dockerEvents } from "./docker-burst.ts";
import type { FastAgent } from "./fast-agent.ts";
import { openFloorBus } from "./floor-publish.ts";
import { percentile, round } from "./measure.ts";
import { containerId, inspectOf } from "./synthetic.ts";

const NODE = "quiet";
/** Starts (and kills) per spacing; BENCH_QUIET_SAMPLES to change it. */
const SAMPLES = Number(process.env.BENCH_QUIET_SAMPLES ?? 30);
/** Floor samples per spacing: a bare path varies little. */
const FLOOR_SAMPLES = 10;
const QUIET_SPACINGS_MS = [500, 5_000] as const;

/** One call to Docker's API over the engine's socket; resolves with the parsed answer once it returned. */
function dockerApi(engine: PrivateDockerEngine, method: string, path: string, body?: object): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: engine.socketPath, method, path, headers: { "content-type": "application/json" } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => {
        if ((res.statusCode ?? 500) >= 300) reject(new Error(`docker ${method} ${path}: ${res.statusCode}: ${text}`));
        else resolve(text === "" ? undefined : JSON.parse(text));
      });
    });
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** The median of each step the emitter and the handlers timed (their debug lines), over every event. */
function stepMedians(processes: readonly BerthProcess[]) {
  const out: Record<string, number> = {};
  for (const [msg, fields] of [
    ["emit timing", ["since_docker_ms", "inspect_ms", "waited_turn_ms", "publish_ms"]],
    ["apply timing", ["decode_ms", "record_ms", "apply_ms", "reread_ms"]],
  ] as const) {
    const lines = processes.flatMap((p) => p.logs.filter((l) => l.msg === msg));
    for (const f of fields)
      out[f] = round(
        percentile(
          lines.map((l) => Number(l[f])),
          50,
        ),
      );
  }
  return out;
}

type Stats = { median_ms: number; p90_ms: number };
/** One spacing's figures; Docker's events and the bare path are the floor beside berth's. */
export type QuietSpacing = {
  samples: number;
  start_returned_to_registered: Stats;
  kill_returned_to_removed: Stats;
  floor_docker_start_event: Stats;
  floor_docker_die_event: Stats;
  floor_publish_pull_put: Stats;
  met: boolean;
};

const stats = (samples: readonly number[]): Stats => ({
  median_ms: round(percentile(samples, 50)),
  p90_ms: round(percentile(samples, 90)),
});

export type QuietOptions = { launch: Launch; samples: number; spacings: readonly number[] };

/** The item as `npm run bench` runs it: the image's processes at each spacing. */
const QUIET_IMAGE: QuietOptions = { launch: "image", samples: SAMPLES, spacings: QUIET_SPACINGS_MS };

/** The same with berth as `npm run emitter|handler` runs it in a clone: for its memory, fewer samples. */
export const QUIET_CLONE: QuietOptions = { launch: "clone", samples: 10, spacings: [500] };

export async function measureQuiet(natsUrl: string, agent: FastAgent, { launch, samples, spacings }: QuietOptions = QUIET_IMAGE) {
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
  const floorBus = await openFloorBus(natsUrl, "FLOOR_QUIET");
  const processes = [emitter];
  try {
    await emitter.waitForLog((l) => l.msg === "watching docker", "emitter watching docker", 30_000);
    processes.push(...(await startHandlers(2, { ...env, BERTH_CONSUL_AGENTS: `${NODE}=${agent.url}` }, launch)));
    const floor = await startFloorWorker({
      NATS_URL: natsUrl,
      FLOOR_STREAM: floorBus.stream,
      FLOOR_CONSUMER: floorBus.consumer,
      AGENT_URL: agent.url,
      CONCURRENCY: "64",
    });
    processes.push(floor);
    const bySpacing: Record<string, QuietSpacing> = {};
    for (const spacing of spacings) {
      const start: number[] = [];
      const kill: number[] = [];
      const dockerStart: number[] = [];
      const dockerDie: number[] = [];
      for (let k = 0; k < samples; k++) {
        const created = (await dockerApi(engine, "POST", `/containers/create?name=quiet-${launch}-${spacing}-${k}`, {
          Image: TEST_IMAGE,
          Env: ["SERVICE_NAME=quiet"],
          ExposedPorts: { "8080/tcp": {} },
          Labels: { [RUN_LABEL_KEY]: RUN_ID },
          HostConfig: { PortBindings: { "8080/tcp": [{ HostPort: "" }] } },
        })) as { Id: string };
        await sleep(spacing); // the host is quiet this long before the start
        await dockerApi(engine, "POST", `/containers/${created.Id}/start`);
        const started = performance.now();
        await waitFor(() => agent.registeredAt.has(created.Id), {
          what: "the quiet container registered",
          timeoutMs: 10_000,
          intervalMs: 5,
        });
        await sleep(spacing);
        await dockerApi(engine, "POST", `/containers/${created.Id}/kill`);
        const killed = performance.now();
        await waitFor(() => agent.goneAt.has(created.Id), { what: "the quiet container removed", timeoutMs: 10_000, intervalMs: 5 });
        start.push(agent.registeredAt.get(created.Id)! - started);
        kill.push(agent.goneAt.get(created.Id)! - killed);
        dockerStart.push(events.seen.start.get(created.Id)! - started);
        dockerDie.push(events.seen.die.get(created.Id)! - killed);
        await dockerApi(engine, "DELETE", `/containers/${created.Id}?force=true`);
      }
      // The floor: the bytes berth's emitter would publish for such a container, on connections idle as long.
      const floorLag: number[] = [];
      for (let k = 0; k < FLOOR_SAMPLES; k++) {
        const id = containerId(`quiet-floor-${launch}-${spacing}-${k}`);
        const event = toContainerEvent(
          "io.berth.container.started",
          { name: NODE, hostIp: engine.ip },
          BigInt(Date.now()) * 1_000_000n,
          normaliseContainer(inspectOf(id, k), []),
        );
        const bytes = new TextEncoder().encode(JSON.stringify(event));
        await sleep(spacing);
        const sent = performance.now();
        await floorBus.publish(bytes, event.id);
        await waitFor(() => agent.registeredAt.has(id), { what: "the floor's registration", timeoutMs: 10_000, intervalMs: 5 });
        floorLag.push(agent.registeredAt.get(id)! - sent);
      }
      bySpacing[`every_${spacing}_ms`] = {
        samples,
        start_returned_to_registered: stats(start),
        kill_returned_to_removed: stats(kill),
        floor_docker_start_event: stats(dockerStart),
        floor_docker_die_event: stats(dockerDie),
        floor_publish_pull_put: stats(floorLag),
        met: percentile(start, 50) <= 3 && percentile(start, 90) <= 5,
      };
    }
    const steps = stepMedians(processes);
    const [emitterPeak, ...handlerPeaks] = await stopAll(processes);
    return {
      launch,
      target: "start returned → registered: median ≤ 3 ms, p90 ≤ 5 ms",
      spacings: bySpacing,
      steps_median_ms: steps,
      emitter_peak_rss_mb: emitterPeak,
      handler_peak_rss_mb: handlerPeaks.slice(0, 2),
    };
  } finally {
    await stopAll(processes);
    events.close();
    await floorBus.close();
    await engine.stop();
  }
}
