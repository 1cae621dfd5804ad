// Pure: a container event + handler settings → the Consul service registrations it should have. No I/O.
// The rules are registrator's (registrator.md §2–3) with DESIGN.md §4's corrections; each concern
// has its file: service-keys (SERVICE_* grammar), ports (which ports, which address), naming,
// checks, meta.
import type { Container, ContainerEvent } from "../schemas/index.ts";
import { checksFor } from "./checks.ts";
import { withHealthCheck } from "./health-check.ts";
import type { ServiceRegistration } from "./consul.ts";
import { OWNER_META, metaFor, ownedByContainer } from "./meta.ts";
import { defaultServiceId, serviceId, serviceName } from "./naming.ts";
import { addressOf, candidatePorts, portLabel, type Candidate, type Skipped } from "./ports.ts";
import { isOn, keysForPort, splitList, type Warn } from "./service-keys.ts";
import type { MappingSettings } from "./settings.ts";

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

type Context = { event: ContainerEvent; settings: MappingSettings; group: boolean; warn: Warn };

function serviceFor(candidate: Candidate, { event, settings, group, warn }: Context): ServiceRegistration | { reason: string } {
  const { node, container } = event.data;
  const keys = keysForPort(container, candidate.containerPort);
  if (isOn(keys, "ignore", warn)) return { reason: "SERVICE_IGNORE is set" };
  if (settings.explicit && !keys.has("name")) return { reason: "BERTH_EXPLICIT is set and SERVICE_NAME is not" };
  const name = serviceName(container, candidate, keys, group, settings.nameFrom);
  if (name === "") return { reason: "no name: set SERVICE_NAME (the image is unknown)" };
  const network = keys.get("network");
  const choice = network
    ? { name: network.value, required: true }
    : settings.network
      ? { name: settings.network, required: false }
      : undefined;
  const where = addressOf(candidate.reach, node.hostIp, choice);
  if ("reason" in where) return where;
  const target = { host: where.address, port: candidate.port, containerId: container.id, containerPort: candidate.containerPort };
  return {
    ID: serviceId(node.name, container, candidate, keys, group),
    Name: name,
    Tags: [...splitList(keys.get("tags")?.value ?? ""), ...settings.tags, ...(candidate.protocol === "tcp" ? [] : [candidate.protocol])],
    ...(where.address ? { Address: where.address } : {}),
    Port: candidate.port,
    Meta: metaFor(keys, node.name, container.id, warn),
    ...checksFor(keys, target, warn),
  };
}

/**
 * The services of the container in `event`: one per qualifying port (see ports.ts), named,
 * identified, tagged, checked and annotated from its SERVICE_* keys and `settings`. No two
 * services share an ID: a given ID that is already taken falls back to the default one.
 */
export function servicesFor(event: ContainerEvent, settings: MappingSettings): Mapping {
  const { node, container } = event.data;
  if (event.type === "io.berth.container.stopped" || container.exitCode !== undefined || container.removed) {
    return stoppedMapping(container, settings);
  }
  const { candidates, skipped } = candidatePorts(container, settings.internal);
  const warnings: string[] = [];
  const services: ServiceRegistration[] = [];
  const ids = new Set<string>();
  for (const candidate of candidates) {
    const label = portLabel(candidate);
    const warn = (message: string) => void warnings.push(`${label}: ${message}`);
    const service = serviceFor(candidate, { event, settings, group: candidates.length > 1, warn });
    if ("reason" in service) {
      skipped.push({ port: label, reason: service.reason });
      continue;
    }
    if (ids.has(service.ID)) {
      warn(`service ID "${service.ID}" is already used by another port: the default ID is used`);
      service.ID = defaultServiceId(node.name, container, candidate);
    }
    if (ids.has(service.ID)) {
      skipped.push({ port: label, reason: `its default service ID "${service.ID}" is taken by another port's SERVICE_<port>_ID` });
      continue;
    }
    ids.add(service.ID);
    services.push(withHealthCheck(service, container, settings));
  }
  return { services, keep: false, skipped, warnings };
}
