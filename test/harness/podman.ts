// A throw-away rootful Podman engine serving its Docker-compatible API, for the emitter's Podman test.
//
// startPodman() runs, all under /tmp/berth-podman-XXXXXX:
//   tini -s -p SIGTERM -- podman --root root --runroot run --tmpdir tmp --storage-driver vfs
//     --cgroup-manager cgroupfs --events-backend file system service --time=0 unix://…/podman.sock
// with CONTAINERS_CONF=containers.conf (below). `host` is that socket as DOCKER_HOST; the docker CLI
// helper (docker-cli.ts) and ensureTestImage() work against it unchanged. `podman(...)` is the
// podman CLI as a remote client of the same service, so containers are created by the service and
// their conmon processes are reaped by its tini (a local `podman run` would orphan conmon to PID 1,
// which on this machine is not a real init and leaves them <defunct>).
//
// containers.conf, found necessary here (Debian's podman 4.3.1, runc 1.1.5, cgroup v1, 2 cores):
//  - default_ulimits: Podman gives root containers nofile=1048576 and nproc=<the caller's hard
//    limit>; this machine's hard nofile is 20000 and the process lacks CAP_SYS_RESOURCE, so runc
//    fails with "error setting rlimit type 7 (then 6): operation not permitted". 1024 fits.
//  - network_config_dir in the temp dir: Podman would otherwise create /etc/containers/networks.
// Containers use `--network slirp4netns` (userspace networking in their own netns; `-p` publishes
// on the host through slirp4netns's port forwarder): the default bridge network would add
// iptables rules to the host. HEALTHCHECKs are not run on a schedule (Podman schedules them with
// systemd timers, and there is no systemd): run one with `podman("healthcheck", "run", id)`.
//
// stop(): `podman rm -f -a -t 0` through the service, SIGTERM the service (SIGKILL after 10 s),
// then kill anything whose command line names the temp dir (conmon, slirp4netns) with its
// descendants, unmount what is left below the dir, remove the dir. Rejects if anything survived.
// A test process SIGKILLed mid-run leaves a dir that the next startPodman() sweeps (stale.ts).
// Global traces left by any rootful Podman, ours included: /var/lib/containers/cache (the image
// blob-info cache), /run/containers, empty cgroups /sys/fs/cgroup/*/libpod_parent.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findBinary } from "./bin.ts";
import { registerCleanup } from "./cleanup.ts";
import { run } from "./exec.ts";
import { httpGet } from "./http.ts";
import { mountsUnder, unmountUnder } from "./mounts.ts";
import { isRoot } from "./prereq.ts";
import { failOnExit, spawnDaemon, stopDaemon, type Daemon } from "./proc.ts";
import { descendants, killTreeSync, pidsWithCmdline } from "./proc-scan.ts";
import { claimDir, sweepStale } from "./stale.ts";
import { waitFor } from "./wait.ts";

export type PodmanEngine = {
  /** unix://…/podman.sock: the Docker-compatible API, as DOCKER_HOST. */
  host: string;
  /** The podman CLI as a client of this engine: podman("run", "-d", …) → trimmed stdout. */
  podman(...args: string[]): Promise<string>;
  stop(): Promise<void>;
};

const NEEDED = ["podman", "conmon", "runc", "slirp4netns", "umount"];

/** What is missing to start a private Podman engine (empty when it can start). */
export function missingForPodman(): string[] {
  const missing = NEEDED.filter((b) => findBinary(b) === undefined);
  return isRoot() ? missing : ["root", ...missing];
}

const containersConf = (dir: string) => `[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

[network]
network_config_dir = "${join(dir, "networks")}"
`;

export async function startPodman(): Promise<PodmanEngine> {
  const missing = missingForPodman();
  if (missing.length > 0) throw new Error(`cannot start a private Podman engine, missing: ${missing.join(", ")}`);
  sweepStalePodman();
  const bin = findBinary("podman") ?? "podman";
  const dir = mkdtempSync("/tmp/berth-podman-"); // /tmp: unix socket paths must stay short
  claimDir(dir, "podman");
  const socketPath = join(dir, "podman.sock");
  const host = `unix://${socketPath}`;
  const env: NodeJS.ProcessEnv = { ...process.env, CONTAINERS_CONF: join(dir, "containers.conf") };
  delete env.CONTAINER_HOST; // --url wins anyway; keep an operator's setting out of the picture
  const podman = (...args: string[]) => run(bin, ["--remote", "--url", host, ...args], { env, timeoutMs: 60_000 });
  let service: Daemon | undefined;

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      let stopFailed: { err: unknown } | undefined;
      try {
        if (service?.running()) {
          await podman("rm", "-f", "-a", "-t", "0").catch(() => {}); // the sweep kills what this misses
          await stopDaemon(service, 10_000);
        }
      } catch (err) {
        stopFailed = { err };
      }
      // The sweep runs whatever happened; what it leaves behind, if anything, is the error reported.
      const left = sweepPodman(dir);
      unregister();
      if (left.length > 0) throw new Error(`podman: could not clean up ${left.join(", ")}`);
      if (stopFailed) throw stopFailed.err;
    })());
  const unregister = registerCleanup(`podman (${dir})`, stop, () => void sweepPodman(dir));

  try {
    mkdirSync(join(dir, "networks"));
    writeFileSync(join(dir, "containers.conf"), containersConf(dir));
    // `env` execs podman, so the PID under tini is podman's own.
    service = await spawnDaemon(
      findBinary("env") ?? "env",
      [
        `CONTAINERS_CONF=${env.CONTAINERS_CONF}`,
        bin,
        "--root",
        join(dir, "root"),
        "--runroot",
        join(dir, "run"),
        "--tmpdir",
        join(dir, "tmp"),
        "--storage-driver",
        "vfs",
        "--cgroup-manager",
        "cgroupfs",
        "--events-backend",
        "file",
        "system",
        "service",
        "--time=0",
        host,
      ],
      join(dir, "podman.log"),
      { supervised: true },
    );
    const died = failOnExit(service, "podman system service");
    await Promise.race([
      died.promise,
      waitFor(async () => (await httpGet("http://podman/_ping", { socketPath, timeoutMs: 1000 }).catch(() => undefined))?.status === 200, {
        what: `podman API on ${socketPath}`,
        signal: died.signal,
      }),
    ]);
    return { host, podman, stop };
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
}

/**
 * Kills what still runs of the engine (everything whose command line names the temp dir —
 * service, conmon, slirp4netns — and their descendants, i.e. the container processes), unmounts
 * what is left below the dir (container shm, netns), removes the dir. Returns what survived.
 */
function sweepPodman(dir: string): string[] {
  const roots = pidsWithCmdline(`${dir}/`);
  const survivors = killTreeSync([...roots, ...descendants(roots)]);
  const mounts = unmountUnder(dir);
  if (mountsUnder(dir).length === 0) rmSync(dir, { recursive: true, force: true });
  return [...survivors.map((pid) => `process ${pid}`), ...mounts.map((m) => `mount ${m}`)];
}

/** Sweeps Podman engines left by test processes that died without any cleanup (e.g. SIGKILL). */
function sweepStalePodman(): string[] {
  return sweepStale("podman", (dir) => void sweepPodman(dir));
}
