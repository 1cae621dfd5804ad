// Pure: the address a service is advertised on, the other IP family's address (Consul's tagged
// addresses), and an explicit SERVICE_ADDRESS (gliderlabs/registrator#258, #454, #480, #667, #674,
// #703 for the choice; #229, #256, #306, #321, #341, #598 for IPv6).
import { isIP, isIPv4, isIPv6 } from "node:net";
import type { Container } from "../schemas/index.ts";
import type { ServiceRegistration } from "../consul/types.ts";
import type { PortKeys, Warn } from "./service-keys.ts";
import { INGRESS_NETWORK } from "./swarm.ts";

type Networks = NonNullable<Container["networks"]>;
export type Family = "ipv4" | "ipv6";

/**
 * Where a port is reached: on a host address (`ip`: the binding's specific address of the preferred
 * family, `other`: of the other family), or on the container's address on one of `networks`.
 */
export type Reach =
  | { kind: "host"; ip: string | undefined; other?: string | undefined }
  | { kind: "container"; networks: Networks | undefined; primary: string | undefined };

/** Which network's container address to use: SERVICE_NETWORK (`required`) or BERTH_NETWORK (a preference). */
export type NetworkChoice = { name: string; required: boolean } | undefined;

/** The advertised address (undefined: the agent's node address) and the other family's, if known. */
export type Where = { address: string | undefined; other: string | undefined };

export const ANY_ADDRESS = new Set(["", "0.0.0.0", "::"]);

const familyOf = (ip: string): Family | undefined => (isIPv4(ip) ? "ipv4" : isIPv6(ip) ? "ipv6" : undefined);

/** The preferred family's address and the other one's, from up to one of each. */
function byFamily(v4: string | undefined, v6: string | undefined, family: Family): Where {
  const [first, second] = family === "ipv6" ? [v6, v4] : [v4, v6];
  return first ? { address: first, other: second || undefined } : { address: second || undefined, other: undefined };
}

const hasIp = (net: Networks[string] | undefined) => Boolean(net?.ipv4 || net?.ipv6);

/**
 * The address to advertise, or why there is none. A host reach uses the binding's IP, else the
 * node's (`BERTH_HOST_IP`; undefined lets the agent use its node address). A container reach uses
 * the chosen network, else the primary one, else the first by name with an address — Swarm's
 * routing-mesh network `ingress` only when chosen. `family` is BERTH_ADDRESS_FAMILY.
 */
export function addressOf(reach: Reach, hostIp: string | undefined, choice: NetworkChoice, family: Family): Where | { reason: string } {
  if (reach.kind === "host") {
    if (reach.ip !== undefined) return { address: reach.ip, other: reach.other };
    return { address: hostIp !== undefined && !ANY_ADDRESS.has(hostIp) ? hostIp : undefined, other: undefined };
  }
  const { networks } = reach;
  if (networks === undefined) return { reason: "the container whose network it shares (container:<x>) could not be inspected" };
  if (choice && Object.hasOwn(networks, choice.name)) {
    const net = networks[choice.name];
    return hasIp(net) ? byFamily(net?.ipv4, net?.ipv6, family) : { reason: `no address on network "${choice.name}"` };
  }
  if (choice?.required) return { reason: `not attached to network "${choice.name}" (SERVICE_NETWORK)` };
  const primary = reach.primary !== undefined && Object.hasOwn(networks, reach.primary) && hasIp(networks[reach.primary]);
  const name = primary
    ? reach.primary
    : Object.keys(networks)
        .sort()
        .find((n) => n !== INGRESS_NETWORK && hasIp(networks[n]));
  if (name === undefined) {
    const onlyIngress = Object.hasOwn(networks, INGRESS_NETWORK);
    return {
      reason: onlyIngress
        ? `the container is on no network but Swarm's "${INGRESS_NETWORK}": attach the service to an overlay network, or name it with SERVICE_NETWORK`
        : "the container has no address on any network",
    };
  }
  const net = networks[name];
  return byFamily(net?.ipv4, net?.ipv6, family);
}

const HOST_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
const HOSTNAME = new RegExp(`^(?=.{1,253}\\.?$)${HOST_LABEL}(?:\\.${HOST_LABEL})*\\.?$`);

/**
 * SERVICE_ADDRESS: an IP address (IPv6 with or without brackets) or a DNS name, published to Consul
 * as is. berth never connects to it (it is not an agent address); Consul's checks do, as they would
 * to any service address. Anything else — `0.0.0.0`, `::`, a URL, a port — is dropped with a warning.
 */
export function explicitAddress(keys: PortKeys, warn: Warn): string | undefined {
  const given = keys.get("address")?.value.trim();
  if (given === undefined) return undefined;
  const bare = /^\[(.*)\]$/.exec(given)?.[1] ?? given;
  if (isIP(bare) !== 0 ? !ANY_ADDRESS.has(bare) : HOSTNAME.test(bare) && !/^[\d.]+$/.test(bare)) return bare;
  warn(`SERVICE_ADDRESS="${given}" is not an IP address or a DNS name (and not 0.0.0.0 or ::): ignored`);
  return undefined;
}

/** `TaggedAddresses` for the other family's address (`lan_ipv4` or `lan_ipv6`, Consul's names); nothing when there is none. */
export function taggedFor(where: Where, port: number): Pick<ServiceRegistration, "TaggedAddresses"> {
  const family = where.other === undefined ? undefined : familyOf(where.other);
  if (where.other === undefined || family === undefined || where.address === undefined || familyOf(where.address) === family) return {};
  return { TaggedAddresses: { [`lan_${family}`]: { Address: where.other, Port: port } } };
}
