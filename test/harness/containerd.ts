// A containerd of our own for one private dockerd.
//
// Why not let dockerd start its "managed" containerd? dockerd 20.10 only does that when no
// /run/containerd/containerd.sock exists; if a system containerd appears, every private daemon
// would silently attach to it. So the harness always starts its own containerd (root and state in
// the engine's temp dir, CRI disabled, the `opt` plugin moved out of /opt/containerd, which the
// managed one creates) and passes `dockerd --containerd <socket>` plus distinct containerd
// namespaces. Shims still put their sockets in /run/containerd/s/<hash> (hard-coded in
// containerd 1.6); they remove them when they exit.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findBinary } from "./bin.ts";
import { failOnExit, spawnDaemon, stopDaemon } from "./proc.ts";
import type { Daemon } from "./proc.ts";
import { waitFor } from "./wait.ts";

export type Containerd = Daemon & { socket: string };

/** Starts containerd with root `<dataRoot>/containerd`, state `<execRoot>/containerd`. */
export async function startContainerd(dir: string, dataRoot: string, execRoot: string): Promise<Containerd> {
  const bin = findBinary("containerd");
  if (bin === undefined) throw new Error("containerd binary not found");
  const root = join(dataRoot, "containerd");
  const state = join(execRoot, "containerd");
  const socket = join(state, "containerd.sock");
  mkdirSync(root, { recursive: true });
  mkdirSync(state, { recursive: true });
  const config = join(dir, "containerd.toml");
  writeFileSync(config, configText(root, state, socket));
  const daemon = await spawnDaemon(bin, ["--config", config], join(dir, "containerd.log"), { supervised: true });
  const died = failOnExit(daemon, "containerd");
  try {
    await Promise.race([
      died.promise,
      waitFor(() => existsSync(socket), { what: `containerd socket ${socket}`, timeoutMs: 15_000, signal: died.signal }),
    ]);
  } catch (error) {
    await stopDaemon(daemon, 1000);
    throw error;
  }
  return { ...daemon, socket };
}

function configText(root: string, state: string, socket: string): string {
  return [
    "version = 2",
    `root = ${JSON.stringify(root)}`,
    `state = ${JSON.stringify(state)}`,
    'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    "[grpc]",
    `  address = ${JSON.stringify(socket)}`,
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = ${JSON.stringify(join(root, "opt"))}`,
    "",
  ].join("\n");
}
