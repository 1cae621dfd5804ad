// Private Docker engines for integration tests (root only), plus the engine type and the shared one.
//
// startDockerd({ name: "n3", ip: "127.0.0.3" }) runs, all under /tmp/berth-n3-XXXXXX:
//   tini -s -p SIGTERM -- containerd --config containerd.toml        (our own, see containerd.ts)
//   tini -s -p SIGTERM -- dockerd --config-file daemon.json --containerd <sock>
//     --containerd-namespace berth-bth<k> --data-root data --exec-root exec --pidfile docker.pid
//     -H unix://…/docker.sock --storage-driver vfs --iptables=false --ip <ip> --bridge bth<k>
//     --cgroup-parent /berth-bth<k>
// daemon.json moves the trust key out of /etc/docker/key.json (which dockerd 20.10 otherwise
// creates) and keeps /etc/docker/daemon.json out of the picture. Logs: dockerd.log, containerd.log.
// tini (proc.ts) reaps shims and passes SIGTERM on if the test process is SIGKILLed; what such a
// death leaves (bridge, mounts, dir, maybe a shim) is swept by the next startDockerd() (stale.ts).
// (After such a death dockerd, whose containerd has gone at the same moment, waits out its
// shutdown timeout: 15 s with a running container, i.e. its stop timeout + 5 s.)
//
// stop(): docker rm -f -v of every container, SIGTERM dockerd (SIGKILL after 10 s), SIGTERM
// containerd (SIGKILL after 5 s), then the sweep (dockerd-teardown.ts): kill anything whose
// command line names the temp dir (shims) and its descendants, unmount what is left below the
// dir, rmdir the cgroups, delete the bridge, delete the dir. Rejects if anything survived.
//
// Verified here (Docker 20.10.24, containerd 1.6.20, 2 cores; figures from test/harness-dockerd.test.ts):
//  - `docker run -d -p 8084:8080 TEST_IMAGE` on an engine started with ip 127.0.0.3 publishes
//    127.0.0.3:8084 through docker-proxy (a child of dockerd; --iptables=false means no NAT rules),
//    and GET http://127.0.0.3:8084/ from the host returns the page.
//  - Several engines run side by side (own containerd, bridge, cgroup parent, sockets): two
//    started in parallel are ready in ~0.15 s; one stops in ~0.2 s with a running container.
//  - dockerd unmounts its data-root bind mount and the netns (nsfs) mounts under exec/netns on a
//    clean stop; after a SIGKILL they linger, hence the unmount step (lazy as a fallback).
//  - Every daemon reports the machine's hostname as its Name: node identity must come from config.
// Global traces left by any dockerd/containerd, ours included: the empty dirs /run/docker/plugins
// and /run/containerd/s (shim sockets live there while containers run).
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findBinary } from "./bin.ts";
import type { DockerEngine } from "./docker-engine.ts";
import type { Bridge } from "./bridge.ts";
import { createBridge } from "./bridge.ts";
import { registerCleanup } from "./cleanup.ts";
import { startContainerd } from "./containerd.ts";
import type { Containerd } from "./containerd.ts";
import { removeContainers } from "./docker-cli.ts";
import { sweepEngine, sweepStaleEngines } from "./dockerd-teardown.ts";
import { httpGet } from "./http.ts";
import { isRoot } from "./prereq.ts";
import { failOnExit, spawnDaemon, stopDaemon } from "./proc.ts";
import type { Daemon } from "./proc.ts";
import { claimDir } from "./stale.ts";
import { waitFor } from "./wait.ts";

export { sharedEngine } from "./shared-engine.ts";

export type { DockerEngine } from "./docker-engine.ts";

export type PrivateDockerEngine = DockerEngine & {
  private: true;
  name: string;
  dir: string; // temp dir holding everything of this engine
  socketPath: string;
  bridge: string; // bth<k>
  subnet: string; // 10.213.<k>.0/24
  dockerdPid: number;
  containerdPid: number;
};

const NEEDED = ["dockerd", "containerd", "containerd-shim-runc-v2", "runc", "docker-proxy", "ip", "umount"];

/** What is missing to start a private dockerd (empty when canStartDockerd()). */
export function missingForDockerd(): string[] {
  const missing = NEEDED.filter((b) => findBinary(b) === undefined);
  return isRoot() ? missing : ["root", ...missing];
}

export function canStartDockerd(): boolean {
  return missingForDockerd().length === 0;
}

/**
 * `dataRoot`: the engine's images, containers and volumes there instead of in its temp dir, kept when
 * it stops (e.g. images cached between runs); at most one engine at a time may use it.
 */
export async function startDockerd(opts: { name: string; ip?: string; dataRoot?: string }): Promise<PrivateDockerEngine> {
  const { name } = opts;
  const ip = opts.ip ?? "127.0.0.1";
  if (!/^[A-Za-z0-9_-]{1,16}$/.test(name)) throw new Error(`bad engine name ${JSON.stringify(name)}`);
  const missing = missingForDockerd();
  if (missing.length > 0) throw new Error(`cannot start a private dockerd, missing: ${missing.join(", ")}`);

  sweepStaleEngines();
  const dir = mkdtempSync(`/tmp/berth-${name}-`); // /tmp, not $TMPDIR: unix socket paths must stay short
  const dataRoot = opts.dataRoot ?? join(dir, "data");
  const execRoot = join(dir, "exec");
  const socketPath = join(dir, "docker.sock");
  const host = `unix://${socketPath}`;
  let bridge: Bridge | undefined;
  let containerd: Containerd | undefined;
  let dockerd: Daemon | undefined;
  let cgroupParent = "/berth-unset";
  const parts = () => ({ dir, cgroupParent, bridge: bridge?.name });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      let stopFailed: { err: unknown } | undefined;
      try {
        if (dockerd?.running()) {
          await removeContainers({ host }).catch(() => {}); // the sweep kills what this misses
          await stopDaemon(dockerd, 10_000);
        }
        if (containerd) await stopDaemon(containerd, 5000);
      } catch (err) {
        stopFailed = { err };
      }
      // The sweep runs whatever happened; what it leaves behind, if anything, is the error reported.
      const left = sweepEngine(parts());
      unregister();
      if (left.length > 0) throw new Error(`dockerd ${name}: could not clean up ${left.join(", ")}`);
      if (stopFailed) throw stopFailed.err;
    })());
  const unregister = registerCleanup(`dockerd ${name} (${dir})`, stop, () => void sweepEngine(parts()));

  try {
    claimDir(dir, "dockerd");
    bridge = createBridge();
    cgroupParent = `/berth-${bridge.name}`;
    claimDir(dir, "dockerd", parts());
    mkdirSync(dataRoot, { recursive: true });
    mkdirSync(execRoot);
    writeFileSync(join(dir, "daemon.json"), JSON.stringify({ "deprecated-key-path": join(dir, "key.json") }));
    containerd = await startContainerd(dir, dataRoot, execRoot);
    dockerd = await spawnDaemon(
      findBinary("dockerd") ?? "dockerd",
      [
        "--config-file",
        join(dir, "daemon.json"),
        "--containerd",
        containerd.socket,
        "--containerd-namespace",
        `berth-${bridge.name}`,
        "--containerd-plugins-namespace",
        `berth-${bridge.name}-plugins`,
        "--data-root",
        dataRoot,
        "--exec-root",
        execRoot,
        "--pidfile",
        join(dir, "docker.pid"),
        "-H",
        host,
        "--storage-driver",
        "vfs",
        "--iptables=false",
        "--ip",
        ip,
        "--bridge",
        bridge.name,
        "--cgroup-parent",
        cgroupParent,
      ],
      join(dir, "dockerd.log"),
      { supervised: true },
    );
    const died = failOnExit(dockerd, `dockerd ${name}`);
    await Promise.race([
      died.promise,
      waitFor(() => ping(socketPath), { what: `dockerd ${name} /_ping`, timeoutMs: 30_000, signal: died.signal }),
    ]);
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
  return {
    host,
    ip,
    private: true,
    stop,
    name,
    dir,
    socketPath,
    bridge: bridge.name,
    subnet: bridge.cidr,
    dockerdPid: dockerd.pid,
    containerdPid: containerd.pid,
  };
}

async function ping(socketPath: string): Promise<boolean> {
  const res = await httpGet("http://docker/_ping", { socketPath, timeoutMs: 1000 });
  return res.status === 200 && res.body === "OK";
}
