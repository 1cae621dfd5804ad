// Pure: service names and IDs (registrator.md §3.5–3.7, with DESIGN.md §4's corrections).
import type { Container } from "../schemas/index.ts";
import { splitList, type PortKeys, type Protocol, type Warn } from "./service-keys.ts";
import type { MappingSettings, NameSuffix } from "./settings.ts";
import { swarmServiceOf } from "./swarm.ts";

type Port = { containerPort: number; protocol: Protocol };

export const COMPOSE_SERVICE_LABEL = "com.docker.compose.service";

/** `registry:5000/team/web:1.2@sha256:…` → `web`. */
export function imageBaseName(image: string): string {
  const withoutDigest = image.split("@")[0] ?? "";
  const last = withoutDigest.split("/").pop() ?? "";
  return last.split(":")[0] ?? "";
}

/**
 * The name when no SERVICE_NAME is given: a Swarm task's service name; else the image's base name,
 * or Compose's service name (BERTH_NAME_FROM=compose).
 */
export function defaultName(container: Container, nameFrom: MappingSettings["nameFrom"]): string {
  const compose = nameFrom === "compose" ? container.labels?.[COMPOSE_SERVICE_LABEL] : undefined;
  return swarmServiceOf(container) ?? (compose || imageBaseName(container.image ?? ""));
}

const SUFFIXES: readonly NameSuffix[] = ["auto", "always", "never"];

/** SERVICE_NAME_SUFFIX, else BERTH_NAME_SUFFIX; a bad value is ignored with a warning. */
function suffixRule(keys: PortKeys, fallback: NameSuffix, warn: Warn): NameSuffix {
  const given = keys.get("name_suffix")?.value.trim().toLowerCase();
  if (given === undefined) return fallback;
  const found = SUFFIXES.find((s) => s === given);
  if (!found) warn(`SERVICE_NAME_SUFFIX="${keys.get("name_suffix")?.value}" is not auto, always or never: ignored`);
  return found ?? fallback;
}

/**
 * The port's service names: SERVICE_<port>_NAME, SERVICE_<first>-<last>_NAME, SERVICE_NAME or the
 * default name; a comma-separated list gives one service per name (gliderlabs/registrator#328, #653).
 * `-<port>` is appended as the suffix rule says: `auto` (registrator's) when several ports qualify
 * (`group`), to SERVICE_NAME and the default name only — a port's or a range's own name addresses
 * its ports already, so each port of a range is one more instance of that service (#183, #198,
 * #244); `always`; `never`. Empty when there is no name at all.
 */
export function serviceNames(
  container: Container,
  port: Port,
  keys: PortKeys,
  group: boolean,
  settings: Pick<MappingSettings, "nameFrom" | "nameSuffix">,
  warn: Warn,
): { name: string; base: string }[] {
  const named = keys.get("name");
  const names = [...new Set(named ? splitList(named.value) : [defaultName(container, settings.nameFrom)])].filter((n) => n !== "");
  const rule = suffixRule(keys, settings.nameSuffix, warn);
  const suffixed = rule === "always" || (rule === "auto" && group && (named === undefined || named.scope === "generic"));
  return names.map((base) => ({ name: suffixed ? `${base}-${port.containerPort}` : base, base }));
}

const protocolSuffix = (port: Port) => (port.protocol === "tcp" ? "" : `:${port.protocol}`);

/** With several names on one port, each service's ID ends in `:<name>`. */
const nameSuffix = (name: string | undefined) => (name === undefined ? "" : `:${name}`);

/**
 * `<node>:<container-name>:<container-id-12>:<port>[:udp][:<name>]`: unique per container
 * incarnation, port and name (`name` only when the port has several).
 */
export function defaultServiceId(node: string, container: Container, port: Port, name?: string): string {
  return `${node}:${container.name}:${container.id.slice(0, 12)}:${port.containerPort}${protocolSuffix(port)}${nameSuffix(name)}`;
}

/**
 * SERVICE_<port>_ID as is; a generic (or port-range) SERVICE_ID as is when one port qualifies, else
 * with `:<port>[:udp]` appended so that ports never share an ID; otherwise the default ID. `name`:
 * see defaultServiceId.
 */
export function serviceId(node: string, container: Container, port: Port, keys: PortKeys, group: boolean, name?: string): string {
  const given = keys.get("id");
  if (given === undefined) return defaultServiceId(node, container, port, name);
  const id = given.perPort || !group ? given.value : `${given.value}:${port.containerPort}${protocolSuffix(port)}`;
  return `${id}${nameSuffix(name)}`;
}
