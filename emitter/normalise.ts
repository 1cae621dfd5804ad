// Pure: Docker's view of a container → the wire contract. The only place that knows inspect's JSON.
import type { Container, ContainerEventType } from "../schemas/index.ts";
import type { ContainerInspect, DockerEvent } from "./docker.ts";

/** Labels every event carries: berth's keys, Compose's project and service, and Swarm's service and task of a task container. */
export const ALWAYS_SHARED_LABEL_PREFIXES = ["SERVICE_", "com.docker.compose.", "com.docker.swarm."];
const MAX_ENTRIES = 256;
const MAX_KEY = 256;
const MAX_VALUE = 4096;
const LINE_BREAK = /[\p{Cc}\u2028\u2029]/u;

const TYPE_OF_ACTION: Record<string, ContainerEventType> = {
  start: "io.berth.container.started",
  die: "io.berth.container.stopped",
  // A container kept registered after a failed exit (BERTH_DEREGISTER=on-success) goes when removed.
  destroy: "io.berth.container.stopped",
  // Podman's name for destroy.
  remove: "io.berth.container.stopped",
  health_status: "io.berth.container.health",
  rename: "io.berth.container.renamed",
};

/** `health_status: healthy` → `io.berth.container.health`; undefined for actions berth ignores. */
export function eventTypeOf(action: string): ContainerEventType | undefined {
  return TYPE_OF_ACTION[action.split(":")[0]!.trim()];
}

export type Dropped = { key: string; reason: string };

/** Keeps entries whose key starts with one of `prefixes` and fits the contract's bounds. */
export function pickEntries(entries: Iterable<[string, string]>, prefixes: readonly string[], dropped: Dropped[]) {
  const kept: Record<string, string> = {};
  let count = 0;
  for (const [key, value] of entries) {
    if (!prefixes.some((p) => key.startsWith(p))) continue;
    if (key.length > MAX_KEY || value.length > MAX_VALUE) dropped.push({ key, reason: "too long" });
    // The contract's keys are one line: a label key with a line break must not make the whole container unregistrable.
    else if (key === "" || LINE_BREAK.test(key))
      dropped.push({ key: JSON.stringify(key), reason: "key is empty or holds a line break or control character" });
    else if (count >= MAX_ENTRIES) dropped.push({ key, reason: `more than ${MAX_ENTRIES} entries` });
    else if (!Object.hasOwn(kept, key)) {
      Object.defineProperty(kept, key, { value, enumerable: true, writable: true, configurable: true });
      count++;
    }
  }
  return kept;
}

function envEntries(env: readonly string[] | null | undefined): [string, string][] {
  return (env ?? []).map((line) => {
    const eq = line.indexOf("=");
    return eq < 0 ? [line, ""] : [line.slice(0, eq), line.slice(eq + 1)];
  });
}

function portKey(key: string): { containerPort: number; protocol: "tcp" | "udp" | "sctp" } | undefined {
  const [port, protocol = "tcp"] = key.split("/");
  const containerPort = Number(port);
  if (!Number.isInteger(containerPort) || containerPort < 0 || containerPort > 65535) return undefined;
  return protocol === "tcp" || protocol === "udp" || protocol === "sctp" ? { containerPort, protocol } : undefined;
}

function networksOf(info: ContainerInspect): NonNullable<Container["networks"]> {
  const networks: NonNullable<Container["networks"]> = {};
  for (const [name, net] of Object.entries(info.NetworkSettings?.Networks ?? {})) {
    if (!net) continue;
    networks[name] = {
      ...(net.IPAddress ? { ipv4: net.IPAddress } : {}),
      ...(net.GlobalIPv6Address ? { ipv6: net.GlobalIPv6Address } : {}),
    };
  }
  return networks;
}

/** `container:<x>` network mode → <x>, the container whose network stack this one shares. */
export function networkPeerOf(info: ContainerInspect): string | undefined {
  const mode = info.HostConfig?.NetworkMode ?? "";
  return mode.startsWith("container:") ? mode.slice("container:".length) || undefined : undefined;
}

/**
 * The normalised container of a live inspect. `labelPrefixes` adds to SERVICE_* and com.docker.compose.*.
 * `peer` is the inspect of `networkPeerOf(info)`, when there is one and it could be inspected.
 */
export function normaliseContainer(
  info: ContainerInspect,
  labelPrefixes: readonly string[],
  dropped: Dropped[] = [],
  peer?: ContainerInspect,
): Container {
  const prefixes = [...ALWAYS_SHARED_LABEL_PREFIXES, ...labelPrefixes];
  const networks = networksOf(info);
  const ports: NonNullable<Container["ports"]> = [];
  for (const [key, bindings] of Object.entries(info.NetworkSettings?.Ports ?? {})) {
    const port = portKey(key);
    if (!port) {
      dropped.push({ key: `port ${key}`, reason: "not a port/protocol (0-65535, tcp, udp or sctp)" });
      continue;
    }
    for (const b of bindings ?? []) {
      const hostPort = Number(b.HostPort);
      if (Number.isInteger(hostPort) && hostPort > 0 && hostPort <= 65535) {
        ports.push({ ...port, hostPort, ...(b.HostIp ? { hostIp: b.HostIp } : {}) });
      } else dropped.push({ key: `port ${key} -> ${b.HostPort}`, reason: "host port out of range (1-65535)" });
    }
  }
  const exposedPorts = Object.keys(info.Config?.ExposedPorts ?? {}).flatMap((k) => {
    const port = portKey(k);
    if (!port) dropped.push({ key: `port ${k}`, reason: "not a port/protocol (0-65535, tcp, udp or sctp)" });
    return port ?? [];
  });
  const health = info.State?.Health?.Status;
  return {
    id: info.Id,
    name: info.Name.replace(/^\//, ""),
    image: info.Config?.Image ?? "",
    hostname: info.Config?.Hostname ?? "",
    networkMode: info.HostConfig?.NetworkMode ?? "",
    networks,
    ...(peer && networkPeerOf(info) ? { peerNetworks: networksOf(peer) } : {}),
    ports,
    exposedPorts,
    health: health === "starting" || health === "healthy" || health === "unhealthy" ? health : "none",
    // Docker always gives a stopped container's code; without one it is taken as 0, as for a removed one.
    ...(info.State && !info.State.Running ? { exitCode: info.State.ExitCode ?? 0 } : {}),
    env: pickEntries(envEntries(info.Config?.Env), ["SERVICE_"], dropped),
    labels: pickEntries(Object.entries(info.Config?.Labels ?? {}), prefixes, dropped),
  };
}

/** What a `die` event alone says about a container: all a stop needs, and all there is once it is removed (--rm). */
export function containerFromEvent(event: DockerEvent, labelPrefixes: readonly string[]): Container {
  const attributes = event.Actor.Attributes ?? {};
  const { name = event.Actor.ID.slice(0, 12), image = "", exitCode, ...rest } = attributes;
  const code = Number(exitCode);
  return {
    id: event.Actor.ID,
    name,
    image,
    ...(exitCode !== undefined && Number.isInteger(code) ? { exitCode: code } : {}),
    labels: pickEntries(Object.entries(rest), [...ALWAYS_SHARED_LABEL_PREFIXES, ...labelPrefixes], []),
  };
}

/** RFC 3339 with up to nanoseconds (Docker's `State.StartedAt`) → nanoseconds since the epoch. */
export function rfc3339ToNanos(text: string): bigint {
  const match = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (!match) throw new Error(`not an RFC 3339 time: ${text}`);
  const seconds = Date.parse(`${match[1]}${match[3]}`) / 1000;
  return BigInt(seconds) * 1_000_000_000n + BigInt((match[2] ?? "").padEnd(9, "0"));
}
