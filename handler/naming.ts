// Pure: service names and IDs (registrator.md §3.5–3.7, with DESIGN.md §4's corrections).
import type { Container } from "../schemas/index.ts";
import type { PortKeys } from "./service-keys.ts";
import type { MappingSettings } from "./settings.ts";

type Port = { containerPort: number; protocol: "tcp" | "udp" | "sctp" };

export const COMPOSE_SERVICE_LABEL = "com.docker.compose.service";

/** `registry:5000/team/web:1.2@sha256:…` → `web`. */
export function imageBaseName(image: string): string {
  const withoutDigest = image.split("@")[0] ?? "";
  const last = withoutDigest.split("/").pop() ?? "";
  return last.split(":")[0] ?? "";
}

/** The name when no SERVICE_NAME is given: the image's base name, or Compose's service name (BERTH_NAME_FROM=compose). */
export function defaultName(container: Container, nameFrom: MappingSettings["nameFrom"]): string {
  const compose = nameFrom === "compose" ? container.labels?.[COMPOSE_SERVICE_LABEL] : undefined;
  return compose || imageBaseName(container.image ?? "");
}

/**
 * SERVICE_<port>_NAME as is; otherwise SERVICE_NAME or the default name, with `-<port>` when
 * several ports qualify (`group`). Empty when there is no name at all.
 */
export function serviceName(
  container: Container,
  port: Port,
  keys: PortKeys,
  group: boolean,
  nameFrom: MappingSettings["nameFrom"],
): string {
  const named = keys.get("name");
  if (named?.perPort) return named.value;
  const base = named?.value ?? defaultName(container, nameFrom);
  return base !== "" && group ? `${base}-${port.containerPort}` : base;
}

const protocolSuffix = (port: Port) => (port.protocol === "tcp" ? "" : `:${port.protocol}`);

/** `<node>:<container-name>:<container-id-12>:<port>[:udp]`: unique per container incarnation and port. */
export function defaultServiceId(node: string, container: Container, port: Port): string {
  return `${node}:${container.name}:${container.id.slice(0, 12)}:${port.containerPort}${protocolSuffix(port)}`;
}

/**
 * SERVICE_<port>_ID as is; a generic SERVICE_ID as is when one port qualifies, else with
 * `:<port>[:udp]` appended so that ports never share an ID; otherwise the default ID.
 */
export function serviceId(node: string, container: Container, port: Port, keys: PortKeys, group: boolean): string {
  const given = keys.get("id");
  if (given === undefined) return defaultServiceId(node, container, port);
  return given.perPort || !group ? given.value : `${given.value}:${port.containerPort}${protocolSuffix(port)}`;
}
