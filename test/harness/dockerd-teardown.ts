// The synchronous last step of stopping a private dockerd, also used as the emergency teardown on
// process exit: kill whatever of ours still runs, unmount, drop the cgroups, the bridge, the dir.
import { existsSync, readdirSync, rmdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { bridgeExists, removeBridge } from "./bridge.ts";
import { mountsUnder, unmountUnder } from "./mounts.ts";
import { descendants, killTreeSync, pidsWithCmdline, unixSocketPaths } from "./proc-scan.ts";
import { sweepStale } from "./stale.ts";

export type EngineParts = { dir: string; cgroupParent: string; bridge: string | undefined };

/**
 * Kills the engine's processes that are still alive (tini, dockerd, containerd, shims: everything
 * whose command line names a path in the temp dir, plus descendants such as docker-proxy and the
 * container processes; never by a remembered PID, which could have been reused) and removes the
 * shims' sockets in /run/containerd/s (a killed shim leaves its socket behind), unmounts everything below the temp dir, removes the engine's cgroups, the
 * bridge and the temp dir. Returns a list of what could not be cleaned (empty when all is gone).
 */
export function sweepEngine(parts: EngineParts): string[] {
  const roots = pidsWithCmdline(`${parts.dir}/`);
  // A SIGKILLed shim cannot remove its socket in /run/containerd/s: note the paths, unlink later.
  const shimSockets = unixSocketPaths(roots).filter((p) => p.startsWith("/run/containerd/s/"));
  const survivors = killTreeSync([...roots, ...descendants(roots)]);
  for (const socket of shimSockets) rmSync(socket, { force: true });
  const mounts = unmountUnder(parts.dir);
  removeCgroups(parts.cgroupParent);
  if (parts.bridge !== undefined) removeBridge(parts.bridge);
  if (mountsUnder(parts.dir).length === 0) rmSync(parts.dir, { recursive: true, force: true });
  return [
    ...survivors.map((pid) => `process ${pid}`),
    ...mounts.map((m) => `mount ${m}`),
    ...(parts.bridge !== undefined && bridgeExists(parts.bridge) ? [`bridge ${parts.bridge}`] : []),
    ...(existsSync(parts.dir) ? [`dir ${parts.dir}`] : []),
  ];
}

/** Sweeps engines left by test processes that died without any cleanup (e.g. SIGKILL). */
export function sweepStaleEngines(): string[] {
  return sweepStale("dockerd", (dir, claim) => {
    const text = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
    sweepEngine({ dir, cgroupParent: text(claim.cgroupParent) ?? "/berth-unset", bridge: text(claim.bridge) });
  });
}

/** rmdir /sys/fs/cgroup/<controller><parent> depth-first in every mounted v1/v2 hierarchy. */
function removeCgroups(parent: string): void {
  const base = "/sys/fs/cgroup";
  const hierarchies = existsSync(join(base, "cgroup.controllers")) ? [base] : listDirs(base).map((d) => join(base, d));
  for (const h of hierarchies) rmdirTree(join(h, parent));
}

function rmdirTree(dir: string): void {
  if (!existsSync(dir)) return;
  for (const child of listDirs(dir)) rmdirTree(join(dir, child));
  try {
    rmdirSync(dir);
  } catch {
    // still has tasks (should not happen after the kill) or already gone
  }
}

function listDirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    return [];
  }
}
