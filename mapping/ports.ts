// Pure: which ports of a container qualify for a service, and where each is reached (addresses.ts
// turns a reach into an address).
import type { Container } from "../schemas/index.ts";
import { ANY_ADDRESS, type Family, type Reach } from "./addresses.ts";
import { splitList, type Protocol } from "./service-keys.ts";

export type { NetworkChoice, Reach } from "./addresses.ts";

export type Port = { containerPort: number; protocol: Protocol };

/** A port that qualifies: `port` is what Consul advertises (host port when published, else container port). */
export type Candidate = Port & { port: number; reach: Reach };

export type Skipped = { port?: string; reason: string };

/**
 * Per port, outside host and `container:<x>` network modes: `host` advertises a published port on a
 * host address; `container` advertises the container port on the container's own address.
 */
export type AddressMode = "host" | "container";

/** Decides a port's mode; `declared`: the port is named by SERVICE_PORT and not published. */
export type ModeOf = (port: Port, declared: boolean) => AddressMode;

export const portLabel = (p: Port): string => `${p.containerPort}/${p.protocol}`;

const HOST: Reach = { kind: "host", ip: undefined };
const NOT_PUBLISHED =
  "exposed but not published (SERVICE_ADDRESS_MODE=container or BERTH_INTERNAL registers it on the container's address)";
const PORT_SPEC = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/i;

const byPort = (a: Port, b: Port) => a.containerPort - b.containerPort || a.protocol.localeCompare(b.protocol);

function unique(ports: Iterable<Port>): Port[] {
  const seen = new Map<string, Port>();
  for (const p of ports) seen.set(portLabel(p), { containerPort: p.containerPort, protocol: p.protocol });
  return [...seen.values()].sort(byPort);
}

/**
 * SERVICE_PORT (a label beats an env variable): ports the container listens on without exposing
 * them (gliderlabs/registrator#38, #576), `9000` or `9000/udp`, comma-separated. A bad entry is skipped.
 */
export function declaredPorts(container: Container, skipped: Skipped[]): Port[] {
  const text = container.labels?.["SERVICE_PORT"] || container.env?.["SERVICE_PORT"] || "";
  const ports: Port[] = [];
  for (const item of splitList(text)) {
    const m = PORT_SPEC.exec(item);
    const containerPort = Number(m?.[1]);
    if (m && containerPort >= 1 && containerPort <= 65535) {
      ports.push({ containerPort, protocol: (m[2]?.toLowerCase() ?? "tcp") as Protocol });
    } else skipped.push({ reason: `SERVICE_PORT: "${item}" is not a port such as 9000 or 53/udp` });
  }
  return ports;
}

const onContainerPort = (ports: Port[], reach: Reach): Candidate[] => ports.map((p) => ({ ...p, port: p.containerPort, reach }));

/**
 * One candidate per container port and protocol (exposed, published or declared by SERVICE_PORT):
 * - `host` network mode: on the node's address;
 * - `container:<x>`: on <x>'s container address (the emitter resolved its networks);
 * - otherwise as `modeOf` says: `container` on the container's own address; `host` only when
 *   published, on the binding's specific host IP, else the node's address. A port published on
 *   several host ports gives one service, on the lowest host port.
 * A container without any port gives neither candidates nor skipped ports.
 */
export function candidatePorts(container: Container, modeOf: ModeOf, family: Family): { candidates: Candidate[]; skipped: Skipped[] } {
  const mode = container.networkMode ?? "";
  const skipped: Skipped[] = [];
  const declared = declaredPorts(container, skipped);
  const isDeclared = (p: Port) => declared.some((d) => d.containerPort === p.containerPort && d.protocol === p.protocol);
  const all = unique([...(container.exposedPorts ?? []), ...(container.ports ?? []), ...declared]);
  const candidates: Candidate[] = [];
  if (mode === "none") {
    skipped.push(...all.map((p) => ({ port: portLabel(p), reason: "network mode none" })));
  } else if (mode === "host") {
    candidates.push(...onContainerPort(all, HOST));
  } else if (mode.startsWith("container:")) {
    const peer = container.peerNetworks;
    const reach: Reach = peer && Object.hasOwn(peer, "host") ? HOST : { kind: "container", networks: peer, primary: undefined };
    candidates.push(...onContainerPort(all, reach));
  } else {
    const primary = mode === "" || mode === "default" ? "bridge" : mode;
    for (const p of all) {
      const isPublished = (container.ports ?? []).some(
        (b) => b.containerPort === p.containerPort && b.protocol === p.protocol && b.hostPort,
      );
      if (modeOf(p, isDeclared(p) && !isPublished) === "container") {
        candidates.push(...onContainerPort([p], { kind: "container", networks: container.networks ?? {}, primary }));
      } else {
        const found = published(container, p, family);
        if ("reason" in found) skipped.push({ port: portLabel(p), reason: found.reason });
        else candidates.push(found.candidate);
        skipped.push(...(found.others ?? []));
      }
    }
  }
  return { candidates, skipped };
}

function published(
  container: Container,
  p: Port,
  family: Family,
): { candidate: Candidate; others: Skipped[] } | { reason: string; others?: undefined } {
  const bindings = (container.ports ?? []).filter((b) => b.containerPort === p.containerPort && b.protocol === p.protocol && b.hostPort);
  const [port, ...others] = [...new Set(bindings.map((b) => b.hostPort!))].sort((a, b) => a - b);
  if (port === undefined) return { reason: NOT_PUBLISHED };
  const specific = bindings
    .filter((b) => b.hostPort === port && b.hostIp !== undefined && !ANY_ADDRESS.has(b.hostIp))
    .map((b) => b.hostIp!)
    .sort();
  const v4 = specific.find((ip) => !ip.includes(":"));
  const v6 = specific.find((ip) => ip.includes(":"));
  const [ip, other] = family === "ipv6" ? [v6 ?? v4, v6 ? v4 : undefined] : [v4 ?? v6, v4 ? v6 : undefined];
  return {
    candidate: { ...p, port, reach: { kind: "host", ip, other } },
    others: others.map((o) => ({
      port: portLabel(p),
      reason: `also published on host port ${o}: one service per container port, on the lowest host port`,
    })),
  };
}
