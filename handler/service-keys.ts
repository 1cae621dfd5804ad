// Pure: the SERVICE_* grammar (registrator.md §2.1) and the value grammars shared by several keys.
import type { Container } from "../schemas/index.ts";

/** One effective key: its value, and whether it came from a `SERVICE_<port>_<KEY>` entry. */
export type ServiceKey = { value: string; perPort: boolean };

/** The keys that apply to one port, lowercased, without `SERVICE_` and without `<port>_`. */
export type PortKeys = ReadonlyMap<string, ServiceKey>;

/** Collects a warning about one port's keys (the caller names the port). */
export type Warn = (message: string) => void;

const PREFIX = "SERVICE_";
const PER_PORT = /^(\d+)_(.+)$/;

/**
 * The SERVICE_* keys of env and labels that apply to `containerPort`: `SERVICE_<port>_<KEY>` beats
 * `SERVICE_<KEY>` whatever the source; at equal specificity a label beats an env variable. The port
 * is compared as text (`SERVICE_080_NAME` is not port 80), and an empty value counts as not given.
 */
export function keysForPort(container: Container, containerPort: number): PortKeys {
  const keys = new Map<string, ServiceKey>();
  for (const source of [container.env, container.labels]) {
    for (const [name, value] of Object.entries(source ?? {})) {
      if (!name.startsWith(PREFIX) || value === "") continue;
      const key = name.slice(PREFIX.length).toLowerCase();
      const perPort = PER_PORT.exec(key);
      if (perPort) {
        if (perPort[1] === String(containerPort)) keys.set(perPort[2]!, { value, perPort: true });
      } else if (!keys.get(key)?.perPort) {
        keys.set(key, { value, perPort: false });
      }
    }
  }
  return keys;
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
  "id",
  "tags",
  "ignore",
  "network",
  "check_http",
  "check_http_method",
  "check_https",
  "check_https_method",
  "check_tcp",
  "check_grpc",
  "check_grpc_use_tls",
  "check_tls_skip_verify",
  "check_script",
  "check_cmd",
  "check_ttl",
  "check_interval",
  "check_timeout",
  "check_initial_status",
  "check_deregister_after",
]);
