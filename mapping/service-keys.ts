// Pure: the SERVICE_* grammar (registrator.md §2.1) and the value grammars shared by several keys.
import type { Container } from "../schemas/index.ts";

/**
 * One effective key: its value, and where it came from. `perPort`: a `SERVICE_<port>_<KEY>` entry
 * (with or without a protocol), which names only this port; a range or generic key may name many.
 */
export type ServiceKey = { value: string; perPort: boolean; scope: KeyScope };
export type KeyScope = "generic" | "range" | "port";

/** The keys that apply to one port, lowercased, without `SERVICE_` and without `<port>[_<proto>]_`. */
export type PortKeys = ReadonlyMap<string, ServiceKey>;

/** Collects a warning about one port's keys (the caller names the port). */
export type Warn = (message: string) => void;

export type Protocol = "tcp" | "udp" | "sctp";

const PREFIX = "SERVICE_";
/** `<port>` or `<first>-<last>`, then an optional protocol, then the key: `8080_name`, `53_udp_name`, `8000-8010_tags`. */
const PORT_KEY = /^(\d+)(?:-(\d+))?_(?:(tcp|udp|sctp)_(?=.))?(.+)$/;
const CANONICAL = /^(?:0|[1-9]\d{0,4})$/;

/**
 * How specific a port-qualified key is for `containerPort`/`protocol`, or undefined when it names
 * other ports. Port and protocol > port > range and protocol > range (a narrower range first). The
 * port is compared as text, as registrator did (`SERVICE_080_NAME` is not port 80); range bounds
 * must be plain numbers, first ≤ last.
 */
function specificity(m: RegExpExecArray, containerPort: number, protocol: Protocol): number | undefined {
  const [, first = "", last, proto] = m;
  if (proto !== undefined && proto !== protocol) return undefined;
  const withProto = proto === undefined ? 0 : 1;
  if (last === undefined) return first === String(containerPort) ? 3_000_000 + withProto * 1_000_000 : undefined;
  if (!CANONICAL.test(first) || !CANONICAL.test(last)) return undefined;
  const [from, to] = [Number(first), Number(last)];
  if (from > to || containerPort < from || containerPort > to) return undefined;
  return 1_000_000 + withProto * 1_000_000 - (to - from);
}

/**
 * The SERVICE_* keys of env and labels that apply to one port: the most specific form wins —
 * `SERVICE_<port>_<proto>_<KEY>`, `SERVICE_<port>_<KEY>`, `SERVICE_<first>-<last>_<proto>_<KEY>`,
 * `SERVICE_<first>-<last>_<KEY>`, then `SERVICE_<KEY>` — whatever the source; at equal specificity a
 * label beats an env variable. An empty value counts as not given.
 */
export function keysForPort(container: Container, containerPort: number, protocol: Protocol = "tcp"): PortKeys {
  const keys = new Map<string, ServiceKey & { rank: number }>();
  for (const source of [container.env, container.labels]) {
    for (const [name, value] of Object.entries(source ?? {})) {
      if (!name.startsWith(PREFIX) || value === "") continue;
      const key = name.slice(PREFIX.length).toLowerCase();
      const m = PORT_KEY.exec(key);
      const rank = m ? specificity(m, containerPort, protocol) : 0;
      if (rank === undefined) continue;
      const scope: KeyScope = !m ? "generic" : m[2] === undefined ? "port" : "range";
      const k = m ? m[4]! : key;
      if (rank >= (keys.get(k)?.rank ?? 0)) keys.set(k, { value, perPort: scope === "port", scope, rank });
    }
  }
  return new Map([...keys].map(([k, { rank: _rank, ...key }]) => [k, key]));
}

const TRUE = new Set(["true", "t", "yes", "y", "on", "1"]);
const FALSE = new Set(["false", "f", "no", "n", "off", "0"]);

/**
 * A boolean key: absent → false; `true/yes/on/1` → true; `false/no/off/0` → false (registrator
 * took any non-empty value, `false` included, as true). Any other value keeps registrator's
 * reading (true) and adds a warning.
 */
export function isOn(keys: PortKeys, key: string, warn: Warn): boolean {
  const given = keys.get(key);
  if (given === undefined) return false;
  const text = given.value.trim().toLowerCase();
  if (TRUE.has(text)) return true;
  if (FALSE.has(text)) return false;
  warn(`SERVICE_${key.toUpperCase()}="${given.value}" is not a boolean: taken as true`);
  return true;
}

/** Splits on unescaped commas (`\,` is a literal comma), trims, drops empty items, keeps the order. */
export function splitList(text: string): string[] {
  const items: string[] = [];
  let current = "";
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "\\" && text[i + 1] === ",") {
      current += ",";
      i++;
    } else if (text[i] === ",") {
      items.push(current);
      current = "";
    } else {
      current += text.charAt(i);
    }
  }
  items.push(current);
  return items.map((t) => t.trim()).filter((t) => t !== "");
}

/** The keys berth reads itself; every other key becomes Meta. */
export const RECOGNISED_KEYS = new Set([
  "name",
  "name_suffix",
  "id",
  "tags",
  "ignore",
  "network",
  "port",
  "address",
  "address_mode",
  "enable_tag_override",
  "weights",
  "connect",
  "connect_native",
  "connect_upstreams",
  "check_http",
  "check_http_method",
  "check_https",
  "check_https_method",
  "check_tcp",
  "check_grpc",
  "check_grpc_use_tls",
  "check_tls_skip_verify",
  "check_tls_server_name",
  "check_script",
  "check_cmd",
  "check_ttl",
  "check_interval",
  "check_timeout",
  "check_initial_status",
  "check_deregister_after",
  "check_header",
  "check_body",
  "check_success_before_passing",
  "check_failures_before_warning",
  "check_failures_before_critical",
]);

/** Keys that take a name after them (`SERVICE_CHECK_HEADER_<NAME>`). */
const RECOGNISED_PREFIXES = ["check_header_"];

export const isRecognisedKey = (key: string): boolean => RECOGNISED_KEYS.has(key) || RECOGNISED_PREFIXES.some((p) => key.startsWith(p));
