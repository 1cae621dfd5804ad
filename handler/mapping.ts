// Pure: a container event → the Consul service definitions it should have. No I/O.
import type { Container, ContainerEvent } from "../schemas/index.ts";
import type { ServiceRegistration } from "./consul.ts";

/** Meta keys that mark a service as berth's (P6). Underscores, so go-bexpr selectors can name them. */
export const OWNER_META = { node: "berth_node", container: "berth_container" } as const;

/** Services berth registered for one container incarnation on its node. */
export function ownedByContainer(node: string, containerId: string): string {
  return `Meta.${OWNER_META.node} == "${node}" and Meta.${OWNER_META.container} == "${containerId}"`;
}

/** SERVICE_* keys from env and labels, labels winning, keyed by the part after `SERVICE_`. */
export function serviceKeys(container: Container): Map<string, string> {
  const keys = new Map<string, string>();
  for (const source of [container.env ?? {}, container.labels ?? {}]) {
    for (const [key, value] of Object.entries(source)) {
      if (key.startsWith("SERVICE_")) keys.set(key.slice("SERVICE_".length).toLowerCase(), value);
    }
  }
  return keys;
}

/** `registry:5000/team/web:1.2@sha256:…` → `web`. */
export function imageBaseName(image: string): string {
  const withoutDigest = image.split("@")[0] ?? "";
  const last = withoutDigest.split("/").pop() ?? "";
  return last.split(":")[0] ?? "";
}

const ANY_ADDRESS = new Set(["", "0.0.0.0", "::"]);

type PublishedPort = { containerPort: number; protocol: string; hostPort: number; hostIp: string | undefined };

/** One entry per (container port, protocol, host port): Docker lists 0.0.0.0 and :: bindings separately. */
export function publishedPorts(container: Container): PublishedPort[] {
  const byKey = new Map<string, PublishedPort>();
  for (const p of container.ports ?? []) {
    if (p.hostPort === undefined) continue;
    const key = `${p.containerPort}/${p.protocol}/${p.hostPort}`;
    const specific = p.hostIp !== undefined && !ANY_ADDRESS.has(p.hostIp) ? p.hostIp : undefined;
    const seen = byKey.get(key);
    if (!seen) byKey.set(key, { containerPort: p.containerPort, protocol: p.protocol, hostPort: p.hostPort, hostIp: specific });
    else if (!seen.hostIp && specific) seen.hostIp = specific;
  }
  return [...byKey.values()].sort((a, b) => a.containerPort - b.containerPort || a.protocol.localeCompare(b.protocol));
}

function splitTags(text: string | undefined): string[] {
  return (text ?? "").split(",").map((t) => t.trim()).filter((t) => t !== "");
}

function isTrue(text: string | undefined): boolean {
  return text !== undefined && ["1", "true", "yes", "on"].includes(text.trim().toLowerCase());
}

/**
 * The services a running container should have: one per published port, named by SERVICE_NAME
 * or the image's base name (`-<port>` appended when several ports qualify), advertised on the
 * binding's own host IP, else the node's advertised address, else the agent's node address.
 */
export function servicesFor(event: ContainerEvent): ServiceRegistration[] {
  const { node, container } = event.data;
  if (event.type === "io.berth.container.stopped") return [];
  const keys = serviceKeys(container);
  if (isTrue(keys.get("ignore"))) return [];
  const ports = publishedPorts(container);
  const baseName = keys.get("name") ?? imageBaseName(container.image ?? "");
  return ports.flatMap((port) => {
    const udp = port.protocol === "udp";
    const name = ports.length > 1 ? `${baseName}-${port.containerPort}` : baseName;
    if (name === "") return [];
    const address = port.hostIp ?? node.hostIp;
    return [
      {
        ID: `${node.name}:${container.name}:${container.id.slice(0, 12)}:${port.containerPort}${udp ? ":udp" : ""}`,
        Name: name,
        Tags: [...splitTags(keys.get("tags")), ...(udp ? ["udp"] : [])],
        ...(address ? { Address: address } : {}),
        Port: port.hostPort,
        Meta: { [OWNER_META.node]: node.name, [OWNER_META.container]: container.id },
      },
    ];
  });
}
