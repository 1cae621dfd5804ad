// Pure: a container event + handler settings → the Consul service registrations it should have. No I/O.
// The rules are registrator's (registrator.md §2–3) with DESIGN.md §4's corrections; each concern
// has its file: service-keys (SERVICE_* grammar), ports (which ports), addresses, naming, checks,
// meta, connect, service-fields, swarm; port-services puts one port's services together.
import type { Container, ContainerEvent } from "../schemas/index.ts";
import type { ServiceRegistration } from "../consul/types.ts";
import { withHealthCheck } from "./health-check.ts";
import { OWNER_META, ownedByContainer } from "./meta.ts";
import { defaultServiceId } from "./naming.ts";
import { addressMode, portServices } from "./port-services.ts";
import { candidatePorts, portLabel, type Candidate, type Port, type Skipped } from "./ports.ts";
import { isOn, keysForPort, type PortKeys, type Warn } from "./service-keys.ts";
import type { MappingSettings } from "./settings.ts";
import { swarmServiceOf } from "./swarm.ts";
import { dnsNameWarnings } from "./dns-names.ts";

export { OWNER_META, ownedByContainer };
export type { Skipped };

export type Mapping = {
  /** Exactly the services the agent should hold for this container incarnation. */
  services: ServiceRegistration[];
  /** True: leave the container's current services as they are (BERTH_DEREGISTER=on-success after a failure). */
  keep: boolean;
  /** Why a port (or, without `port`, the whole container) has no service. */
  skipped: Skipped[];
  /** Keys berth dropped or read leniently; the services are registered without them. */
  warnings: string[];
};

/**
 * Registrator §3.9, for a container that is not running: `always` removes its services;
 * `on-success` keeps them unless it exited with 0, was killed by a signal (code & 128), or is
 * already removed (its exit code could not be read). A stop whose container runs again keeps them.
 */
function keepsServices(container: Container, settings: MappingSettings): boolean {
  if (settings.deregister === "always" || container.removed) return false;
  const code = container.exitCode;
  return code === undefined || (code !== 0 && (code & 128) !== 128);
}

function stoppedMapping(container: Container, settings: MappingSettings): Mapping {
  const keep = keepsServices(container, settings);
  const how = container.removed ? "removed" : container.exitCode === undefined ? "stopped" : `exited with code ${container.exitCode}`;
  const reason = keep ? `${how}: services kept (BERTH_DEREGISTER=on-success)` : `${how}: no services`;
  return { services: [], keep, skipped: [{ reason }], warnings: [] };
}

/** Why a container without any port has no service. */
function noPortsReason(container: Container, internal: boolean): string {
  if (swarmServiceOf(container) !== undefined) {
    return "no ports: a Swarm task's ingress-published ports are known only to the managers; name the port the task listens on with SERVICE_PORT";
  }
  const mode = container.networkMode ?? "";
  return internal || mode === "host" || mode.startsWith("container:") ? "no exposed ports" : "no published ports";
}

type Qualifying = { candidate: Candidate; keys: PortKeys; warn: Warn };

/**
 * The services of the container in `event`: per qualifying port (see ports.ts) one service per name,
 * named, identified, addressed, tagged, checked and annotated from its SERVICE_* keys and `settings`.
 * Ports skipped by SERVICE_IGNORE or BERTH_EXPLICIT do not count toward the `-<port>` suffix. No two
 * services share an ID: a given ID that is already taken falls back to the default one.
 */
export function servicesFor(event: ContainerEvent, settings: MappingSettings): Mapping {
  const { node, container } = event.data;
  if (event.type === "io.berth.container.stopped" || container.exitCode !== undefined || container.removed) {
    return stoppedMapping(container, settings);
  }
  const warnings: string[] = [];
  const warnFor = (p: Port) => (message: string) => void warnings.push(`${portLabel(p)}: ${message}`);
  const keysOf = (p: Port) => keysForPort(container, p.containerPort, p.protocol);
  const { candidates, skipped } = candidatePorts(
    container,
    (p, declared) => addressMode(keysOf(p), declared, container, settings.internal, warnFor(p)),
    settings.addressFamily,
  );
  if (candidates.length === 0 && skipped.length === 0) skipped.push({ reason: noPortsReason(container, settings.internal) });
  const qualifying: Qualifying[] = [];
  for (const candidate of candidates) {
    const keys = keysOf(candidate);
    const warn = warnFor(candidate);
    if (isOn(keys, "ignore", warn)) skipped.push({ port: portLabel(candidate), reason: "SERVICE_IGNORE is set" });
    else if (settings.explicit && !keys.has("name"))
      skipped.push({ port: portLabel(candidate), reason: "BERTH_EXPLICIT is set and SERVICE_NAME is not" });
    else qualifying.push({ candidate, keys, warn });
  }
  const services: ServiceRegistration[] = [];
  const ids = new Set<string>();
  for (const { candidate, keys, warn } of qualifying) {
    const found = portServices(candidate, keys, { event, settings, group: qualifying.length > 1, warn });
    if ("reason" in found) {
      skipped.push({ port: portLabel(candidate), reason: found.reason });
      continue;
    }
    for (const service of found) {
      if (ids.has(service.ID)) {
        warn(`service ID "${service.ID}" is already used by another service: the default ID is used`);
        service.ID = defaultServiceId(node.name, container, candidate, found.length > 1 ? service.Name : undefined);
      }
      if (ids.has(service.ID)) {
        skipped.push({ port: portLabel(candidate), reason: `its default service ID "${service.ID}" is taken by another SERVICE_ID` });
        continue;
      }
      ids.add(service.ID);
      services.push(withHealthCheck(service, container, settings));
    }
  }
  warnings.push(...dnsNameWarnings(services.map((s) => s.Name)));
  return { services, keep: false, skipped, warnings };
}
