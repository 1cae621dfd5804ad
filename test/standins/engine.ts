// The engine that keeps the stand-ins (test/standins/index.ts) between runs: a private dockerd on the
// data-root STANDIN_CACHE/engine, one at a time (a lock file naming its owner), started with every
// stand-in ready and no swarm a killed test may have left there (test/harness/swarm.ts). The stacks'
// tests run on it: test/compose-stack.test.ts, test/swarm-stack.test.ts.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { registerCleanup } from "../harness/cleanup.ts";
import { dockerCli } from "../harness/docker-cli.ts";
import { startDockerd, type PrivateDockerEngine } from "../harness/dockerd.ts";
import { run } from "../harness/exec.ts";
import { startTimeOf } from "../harness/proc-scan.ts";
import { forgetSwarm } from "../harness/swarm.ts";
import { ensureStandins, STANDIN_CACHE } from "./index.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

/** One engine at a time on the kept data-root: a lock file naming its owner (pid and start time). */
function lockDataRoot(dataRoot: string): void {
  const lock = `${dataRoot}.lock`;
  if (existsSync(lock)) {
    const owner = JSON.parse(readFileSync(lock, "utf8")) as { pid: number; start: string };
    if (startTimeOf(owner.pid) === owner.start) throw new Error(`${dataRoot} is in use by process ${owner.pid}`);
  }
  writeFileSync(lock, JSON.stringify({ pid: process.pid, start: startTimeOf(process.pid) }));
  registerCleanup(`lock ${lock}`, () => {
    rmSync(lock, { force: true });
    return Promise.resolve();
  });
}

/** The stand-ins' engine, started as `name` with published ports on `ip`, its stand-ins built where missing. */
export async function startStandinEngine(name: string, ip: string, say: (text: string) => void): Promise<PrivateDockerEngine> {
  const dataRoot = join(STANDIN_CACHE, "engine");
  lockDataRoot(dataRoot);
  const engine = await startDockerd({ name, ip, dataRoot });
  await forgetSwarm(engine);
  await ensureStandins(engine, say);
  return engine;
}

/** The Dockerfile's stages that only feed the last: tagged, so that ensureStandins' prune keeps them as the next build's cache. */
const STAGES = ["build", "deps"];

/**
 * berth's image from the Dockerfile, as `tag`, with the builder docker-compose 1.29 uses (the
 * classic one, whose cache is the engine's images). Each stage is tagged `berth-cache:<stage>`:
 * untagged, a stage's image would be pruned by the next ensureStandins, and with it the cache of
 * `npm ci` and the TypeScript build; tagged, a build of unchanged sources is all cache, and the
 * compose test's build after it too.
 */
export async function buildBerthImage(engine: PrivateDockerEngine, tag: string): Promise<void> {
  const build = (...args: string[]) =>
    run(dockerCli(), ["-H", engine.host, "build", "-q", ...args, ROOT], {
      env: { ...process.env, DOCKER_HOST: "", DOCKER_BUILDKIT: "0" },
      timeoutMs: 900_000,
    });
  for (const stage of STAGES) await build("--target", stage, "-t", `berth-cache:${stage}`);
  await build("-t", tag);
}
