// Pure: which ports of a container qualify for a service, and on which address each is reachable.
import type { Container } from "../schemas/index.ts";

type Networks = NonNullable<Container["networks"]>;
type Port = { containerPort: number; protocol: "tcp" | "udp" | "sctp" };

/** Where a port is reached: on a host address, or on the container's address on one of `networks`. */
export type Reach =
  { kind: "host"; ip: string | undefined } | { kind: "container"; networks: Networks | undefined; primary: string | undefined };

/** A port that qualifies: `port` is what Consul advertises (host port when published, else container port). */
export type Candidate = Port & { port: number; reach: Reach };

export type Skipped = { port?: string; reason: string };

/** Which network's container address to use: SERVICE_NETWORK (`required`) or BERTH_NETWORK (a preference). */
export type NetworkChoice = { name: string; required: boolean } | undefined;

export const portLabel = (p: Port): string => `${p.containerPort}/${p.protocol}`;

const ANY_ADDRESS = new Set(["", "0.0.0.0", "::"]);
const HOST: Reach = { kind: "host", ip: undefined };
const NOT_PUBLISHED = "exposed but not published (BERTH_INTERNAL registers exposed ports on the container's address)";

const byPort = (a: Port, b: Port) => a.containerPort - b.containerPort || a.protocol.localeCompare(b.protocol);

function unique(ports: Iterable<Port>): Port[] {
  const seen = new Map<string, Port>();
  for (const p of ports) seen.set(portLabel(p), { containerPort: p.containerPort, protocol: p.protocol });
  return [...seen.values()].sort(byPort);
}

const onContainerPort = (ports: Port[], reach: Reach): Candidate[] => ports.map((p) => ({ ...p, port: p.containerPort, reach }));

/**
 * One candidate per container port and protocol:
 * - `host` network mode: exposed ports, on the node's address;
 * - `container:<x>`: exposed ports, on <x>'s container address (the emitter resolved its networks);
 * - `BERTH_INTERNAL`: exposed (and published) ports, on the container's own address;
 * - otherwise published ports, on the binding's specific host IP, else the node's address. A port
 *   published on several host ports gives one service, on the lowest host port.
 */
export function candidatePorts(container: Container, internal: boolean): { candidates: Candidate[]; skipped: Skipped[] } {
  const mode = container.networkMode ?? "";
  const exposed = unique([...(container.exposedPorts ?? []), ...(container.ports ?? [])]);
  let result: { candidates: Candidate[]; skipped: Skipped[] };
  if (mode === "none") {
    result = { candidates: [], skipped: exposed.map((p) => ({ port: portLabel(p), reason: "network mode none" })) };
  } else if (mode === "host") {
    result = { candidates: onContainerPort(exposed, HOST), skipped: [] };
  } else if (mode.startsWith("container:")) {
    const peer = container.peerNetworks;
    const reach: Reach = peer && Object.hasOwn(peer, "host") ? HOST : { kind: "container", networks: peer, primary: undefined };
    result = { candidates: onContainerPort(exposed, reach), skipped: [] };
  } else if (internal) {
    const primary = mode === "" || mode === "default" ? "bridge" : mode;
    result = { candidates: onContainerPort(exposed, { kind: "container", networks: container.networks ?? {}, primary }), skipped: [] };
  } else {
    result = published(container, exposed);
  }
  if (result.candidates.length === 0 && result.skipped.length === 0) {
    result.skipped.push({
      reason: internal || mode === "host" || mode.startsWith("container:") ? "no exposed ports" : "no published ports",
    });
  }
  return result;
}

function published(container: Container, exposed: Port[]): { candidates: Candidate[]; skipped: Skipped[] } {
  const candidates: Candidate[] = [];
  const skipped: Skipped[] = [];
  for (const p of exposed) {
    const bindings = (container.ports ?? []).filter((b) => b.containerPort === p.containerPort && b.protocol === p.protocol && b.hostPort);
    const hostPorts = [...new Set(bindings.map((b) => b.hostPort!))].sort((a, b) => a - b);
    const [port, ...others] = hostPorts;
    if (port === undefined) {
      skipped.push({ port: portLabel(p), reason: NOT_PUBLISHED });
      continue;
    }
    const specific = bindings
      .filter((b) => b.hostPort === port && b.hostIp !== undefined && !ANY_ADDRESS.has(b.hostIp))
      .map((b) => b.hostIp!)
      .sort((a, b) => Number(a.includes(":")) - Number(b.includes(":")) || a.localeCompare(b));
    candidates.push({ ...p, port, reach: { kind: "host", ip: specific[0] } });
    for (const other of others) {
      skipped.push({
        port: portLabel(p),
        reason: `also published on host port ${other}: one service per container port, on the lowest host port`,
      });
    }
  }
  return { candidates, skipped };
}

const ipOf = (net: Networks[string] | undefined): string | undefined => net?.ipv4 || net?.ipv6 || undefined;

/**
 * The address to advertise, or why there is none. A host reach uses the binding's IP, else the
 * node's (`BERTH_HOST_IP`; undefined lets the agent use its node address). A container reach uses
 * the chosen network, else the primary one, else the first by name with an address; IPv4 first.
 */
export function addressOf(
  reach: Reach,
  hostIp: string | undefined,
  choice: NetworkChoice,
): { address: string | undefined } | { reason: string } {
  if (reach.kind === "host") {
    const ip = reach.ip ?? hostIp;
    return { address: ip !== undefined && !ANY_ADDRESS.has(ip) ? ip : undefined };
  }
  const { networks } = reach;
  if (networks === undefined) return { reason: "the container whose network it shares (container:<x>) could not be inspected" };
  if (choice && Object.hasOwn(networks, choice.name)) {
    const ip = ipOf(networks[choice.name]);
    return ip ? { address: ip } : { reason: `no address on network "${choice.name}"` };
  }
  if (choice?.required) return { reason: `not attached to network "${choice.name}" (SERVICE_NETWORK)` };
  const primary =
    reach.primary !== undefined && Object.hasOwn(networks, reach.primary) && ipOf(networks[reach.primary]) ? reach.primary : undefined;
  const name =
    primary ??
    Object.keys(networks)
      .sort()
      .find((n) => ipOf(networks[n]));
  return name === undefined ? { reason: "the container has no address on any network" } : { address: ipOf(networks[name]) };
}
