// An already-running Docker engine named by DOCKER_HOST (e.g. a developer's own daemon or a CI
// service), used when a private dockerd cannot be started.
//
// Decision: the harness never stops a shared daemon. Its stop() removes only the containers this
// test process created through docker() — they carry RUN_LABEL — and it is registered for
// cleanupAll. Containers created by other means (e.g. dockerode in a test) must carry RUN_LABEL
// themselves to be cleaned. `ip` is BERTH_TEST_DOCKER_IP or 127.0.0.1; a shared daemon's default
// bind address is usually 0.0.0.0, so portable tests publish as `-p ${engine.ip}:<host>:<ctr>`.
import type { DockerEngine } from "./docker-engine.ts";
import { registerCleanup } from "./cleanup.ts";
import { RUN_LABEL, dockerCli, removeContainers } from "./docker-cli.ts";
import { runSync } from "./exec.ts";

let cached: DockerEngine | undefined;
let unregister: (() => void) | undefined;

/** The engine at DOCKER_HOST if it is set and answers `docker version` within 5 s, else undefined. */
export function sharedEngine(): DockerEngine | undefined {
  const host = process.env.DOCKER_HOST;
  if (host === undefined || host === "") return undefined;
  if (cached?.host !== host) {
    if (!runSync(dockerCli(), ["-H", host, "version", "--format", "{{.Server.Version}}"], 5000).ok) return undefined;
    cached = { host, ip: process.env.BERTH_TEST_DOCKER_IP ?? "127.0.0.1", private: false, stop: () => removeOwn(host) };
  }
  unregister ??= registerCleanup(
    `shared docker engine ${host} (containers labelled ${RUN_LABEL})`,
    () => removeOwn(host),
    () => removeOwnSync(host),
  );
  return cached;
}

async function removeOwn(host: string): Promise<void> {
  unregister?.();
  unregister = undefined;
  await removeContainers({ host }, `label=${RUN_LABEL}`);
}

function removeOwnSync(host: string): void {
  const ids = runSync(dockerCli(), ["-H", host, "ps", "-aq", "--filter", `label=${RUN_LABEL}`])
    .stdout.split(/\s+/)
    .filter(Boolean);
  if (ids.length > 0) runSync(dockerCli(), ["-H", host, "rm", "-f", "-v", ...ids], 60_000);
}
