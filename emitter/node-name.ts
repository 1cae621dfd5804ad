// Which node this emitter speaks for: BERTH_NODE, else the Docker engine's name up to the first
// dot — waited for while the engine does not answer, with a hint at what to check.
import { statSync } from "node:fs";
import type { Waiting } from "../common/waiting.ts";
import { waitUntilUp } from "../common/waiting.ts";
import { ConfigError } from "../common/config.ts";
import { isValidNodeName } from "../schemas/index.ts";
import type { DockerSource } from "./docker.ts";

export type NodeName = { name: string; source: "BERTH_NODE" | "Docker's engine name" };

/** What to check when the engine at `dockerHost` does not answer, by the reason. */
export function dockerHint(reason: string, dockerHost: string): string {
  const socket = dockerHost.startsWith("unix://") ? dockerHost.slice("unix://".length) : undefined;
  if (socket !== undefined && /EACCES|EPERM/.test(reason)) {
    let group = "";
    try {
      group = ` (gid ${statSync(socket).gid})`;
    } catch {
      // the group is a detail of the hint; the reason already names the failure
    }
    return `this process may not open ${socket}: run it in the socket's group${group}, or as root`;
  }
  if (socket !== undefined && /ENOENT|ECONNREFUSED/.test(reason))
    return `no Docker engine listens at ${socket}: start dockerd, or set DOCKER_HOST to where it listens`;
  return `is the Docker engine at DOCKER_HOST=${dockerHost} running and reachable?`;
}

export async function resolveNode(
  docker: DockerSource,
  configured: string | undefined,
  dockerHost: string,
  waiting: Waiting,
): Promise<NodeName> {
  if (configured) return { name: configured, source: "BERTH_NODE" };
  const engineName = await waitUntilUp(() => docker.engineName(), {
    ...waiting,
    what: "Docker",
    hint: (reason) => dockerHint(reason, dockerHost),
    firstRetryMs: 250,
  });
  const name = engineName.split(".")[0] ?? "";
  if (!isValidNodeName(name))
    throw new ConfigError([`Docker's engine name "${engineName}" gives no valid node name ("${name}"): set BERTH_NODE`]);
  return { name, source: "Docker's engine name" };
}
