// A single-node swarm on a private dockerd, with the swarm's gateway bridge of its own.
//
// `docker swarm init` makes the bridge network `docker_gwbridge`, every overlay container's way out
// of its overlay, on a Linux bridge of that one name for the whole host. Made beforehand (as
// Docker's docs let one customise it), it gets a Linux bridge and a subnet after the engine's own
// bth<k>: swgw<k>, 10.217.<k>.0/24. Two engines' swarms then never share a bridge, and the gateway
// (this host's address on it, which containers on the swarm's overlays reach) is known.
// leave() undoes all of it; the kept data-root of the stand-ins' engine (test/standins/engine.ts)
// is rid of a swarm a killed test left there by forgetSwarm().
import type { PrivateDockerEngine } from "./dockerd.ts";
import { docker } from "./docker-cli.ts";
import { bridgeExists, removeBridge } from "./bridge.ts";
import { registerCleanup } from "./cleanup.ts";

export const GWBRIDGE = "docker_gwbridge";

export type Swarm = { gateway: string; bridge: string };

/** Leaves the engine's swarm, if any (its services and networks go with it), and removes docker_gwbridge. */
export async function forgetSwarm(engine: Pick<PrivateDockerEngine, "host">): Promise<void> {
  const state = await docker(engine, "info", "--format", "{{.Swarm.LocalNodeState}}");
  if (state !== "inactive") await docker(engine, "swarm", "leave", "--force");
  const networks = await docker(engine, "network", "ls", "-q", "--filter", `name=^${GWBRIDGE}$`);
  if (networks !== "") await docker(engine, "network", "rm", GWBRIDGE);
}

/**
 * Makes `engine` a single-node swarm at `ip` (its manager's port 2377 there, not on every address,
 * where another engine's swarm may be); left again, with its bridge gone, at cleanup.
 */
export async function initSwarm(engine: PrivateDockerEngine, ip: string): Promise<Swarm> {
  const k = engine.bridge.slice("bth".length);
  const swarm = { gateway: `10.217.${k}.1`, bridge: `swgw${k}` };
  // Registered before the swarm's own cleanup: runs after it, and after a failed network rm.
  registerCleanup(
    `bridge ${swarm.bridge}`,
    () => {
      if (bridgeExists(swarm.bridge)) removeBridge(swarm.bridge);
      return Promise.resolve();
    },
    () => removeBridge(swarm.bridge),
  );
  registerCleanup(`swarm of dockerd ${engine.name}`, () => forgetSwarm(engine));
  await docker(
    engine,
    "network",
    "create",
    "--subnet",
    `10.217.${k}.0/24`,
    "--opt",
    `com.docker.network.bridge.name=${swarm.bridge}`,
    "--opt",
    "com.docker.network.bridge.enable_icc=false",
    GWBRIDGE,
  );
  await docker(engine, "swarm", "init", "--advertise-addr", ip, "--listen-addr", `${ip}:2377`);
  return swarm;
}
