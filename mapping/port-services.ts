// Pure: the services of one qualifying port — names, IDs, address, tags, Meta, checks and the
// Consul fields registrator never set — from its SERVICE_* keys and the handler's settings.
import type { Container, ContainerEvent } from "../schemas/index.ts";
import { addressOf, explicitAddress, taggedFor } from "./addresses.ts";
import { checksFor } from "./checks.ts";
import { connectFor } from "./connect.ts";
import type { ServiceRegistration } from "../consul/types.ts";
import { BERTH_META, metaFor } from "./meta.ts";
import { serviceId, serviceNames } from "./naming.ts";
import type { AddressMode, Candidate } from "./ports.ts";
import { serviceFieldsFor } from "./service-fields.ts";
import { withSidecarMeta } from "./sidecars.ts";
import { splitList, type PortKeys, type Warn } from "./service-keys.ts";
import type { MappingSettings } from "./settings.ts";
import { swarmServiceOf } from "./swarm.ts";

export type PortContext = { event: ContainerEvent; settings: MappingSettings; group: boolean; warn: Warn };

/**
 * SERVICE_ADDRESS_MODE (`host`: published ports on a host address; `container`: the container's own
 * address and port), else `container` for a Swarm task or a port only SERVICE_PORT names, else
 * BERTH_INTERNAL's choice.
 */
export function addressMode(keys: PortKeys, declared: boolean, container: Container, internal: boolean, warn: Warn): AddressMode {
  const given = keys.get("address_mode");
  const mode = given?.value.trim().toLowerCase();
  if (mode === "host" || mode === "container") return mode;
  if (given) warn(`SERVICE_ADDRESS_MODE="${given.value}" is not host or container: ignored`);
  return swarmServiceOf(container) !== undefined || declared || internal ? "container" : "host";
}

/** The network whose address a container reach uses: SERVICE_NETWORK (required) or BERTH_NETWORK (preferred). */
function networkChoice(keys: PortKeys, settings: MappingSettings) {
  const network = keys.get("network");
  if (network) return { name: network.value, required: true };
  return settings.network ? { name: settings.network, required: false } : undefined;
}

/** One service per name of the port (usually one), or why there is none. */
export function portServices(candidate: Candidate, keys: PortKeys, ctx: PortContext): ServiceRegistration[] | { reason: string } {
  const { event, settings, group, warn } = ctx;
  const { node, container } = event.data;
  const portKey = keys.get("port");
  if (portKey && portKey.scope !== "generic") warn("SERVICE_<port>_PORT is not read: SERVICE_PORT names the ports to register");
  const names = serviceNames(container, candidate, keys, group, settings, warn);
  if (names.length === 0) return { reason: "no name: set SERVICE_NAME (the image is unknown)" };
  const where = addressOf(candidate.reach, node.hostIp, networkChoice(keys, settings), settings.addressFamily);
  if ("reason" in where) return where;
  const explicit = explicitAddress(keys, warn);
  const address = explicit ?? where.address;
  const connect = connectFor(keys, warn);
  const own = connect.Connect?.SidecarService ? { [BERTH_META.sidecar]: "true" } : {};
  const meta = metaFor(keys, node.name, container.id, warn, own);
  const target = { host: address, port: candidate.port, containerId: container.id, containerPort: candidate.containerPort };
  const body: Omit<ServiceRegistration, "ID" | "Name"> = {
    Tags: [...splitList(keys.get("tags")?.value ?? ""), ...settings.tags, ...(candidate.protocol === "tcp" ? [] : [candidate.protocol])],
    ...(address ? { Address: address } : {}),
    ...(explicit ? {} : taggedFor(where, candidate.port)),
    Port: candidate.port,
    Meta: meta,
    ...serviceFieldsFor(keys, warn),
    ...withSidecarMeta(connect, meta),
    ...checksFor(keys, target, warn),
  };
  return names.map(({ name, base }) => ({
    ID: serviceId(node.name, container, candidate, keys, group, names.length > 1 ? base : undefined),
    Name: name,
    // Several names share one body: each its own copy, so no two services share a nested object.
    ...(names.length > 1 ? structuredClone(body) : body),
  }));
}
