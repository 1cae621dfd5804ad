// The docker CLI against one engine: docker(engine, "run", "-d", …) → trimmed stdout.
//
// Uses /usr/bin/docker (Debian's 20.10 client, same version as the daemon) when present, else
// `docker` on PATH. DOCKER_HOST / DOCKER_CONTEXT from the environment are ignored: -H wins.
//
// Containers made through this helper (`run` / `create`, also as `container run|create`) get the
// label RUN_LABEL (`berth-test.run=<pid>-<random>`) inserted right after the sub-command, so a
// shared engine's stop() can remove exactly this process's containers. Keep that in mind when
// asserting on a container's full label set. Always pass `--pull=never` to `run`/`create`: the
// test image only exists locally, and a pull would try to reach a registry.
import { randomBytes } from "node:crypto";
import { findBinary } from "./bin.ts";
import type { DockerEngine } from "./docker-engine.ts";
import { run } from "./exec.ts";

export const RUN_LABEL_KEY = "berth-test.run";
export const RUN_ID = `${process.pid}-${randomBytes(3).toString("hex")}`;
export const RUN_LABEL = `${RUN_LABEL_KEY}=${RUN_ID}`;

export function dockerCli(): string {
  return findBinary("docker", ["/usr/bin/docker"]) ?? "docker";
}

export function docker(engine: Pick<DockerEngine, "host">, ...args: string[]): Promise<string> {
  const env = { ...process.env };
  delete env.DOCKER_HOST;
  delete env.DOCKER_CONTEXT;
  return run(dockerCli(), ["-H", engine.host, ...withRunLabel(args)], { env });
}

/** docker rm -f -v every container of the engine (or those matching a `docker ps --filter`). */
export async function removeContainers(engine: Pick<DockerEngine, "host">, filter?: string): Promise<void> {
  const ps = await docker(engine, "ps", "-aq", ...(filter === undefined ? [] : ["--filter", filter]));
  const ids = ps.split(/\s+/).filter((id) => id !== "");
  if (ids.length > 0) await docker(engine, "rm", "-f", "-v", ...ids);
}

function withRunLabel(args: readonly string[]): string[] {
  const at = args[0] === "container" ? 1 : 0;
  const sub = args[at];
  if (sub !== "run" && sub !== "create") return [...args];
  return [...args.slice(0, at + 1), "--label", RUN_LABEL, ...args.slice(at + 1)];
}
