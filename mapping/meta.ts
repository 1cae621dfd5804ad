// Pure: the SERVICE_* keys berth does not read itself → Consul Meta, within Consul's limits.
import { isRecognisedKey, type PortKeys, type Warn } from "./service-keys.ts";

/** Meta keys that mark a service as berth's (P6). Underscores, so go-bexpr selectors can name them. */
export const OWNER_META = { node: "berth_node", container: "berth_container", hash: "berth_hash" } as const;

/**
 * Berth's Connect Meta (mapping/sidecars.ts): `berth_sidecar` marks a service registered with a
 * sidecar, so one listing tells whether the agent still holds it; the sidecar the agent creates
 * carries `berth_node` and `berth_sidecar_of` (the container ID) instead of `berth_container`, so it
 * is berth's on the node but never listed as one of the container's own services.
 */
export const BERTH_META = { sidecar: "berth_sidecar", sidecarOf: "berth_sidecar_of" } as const;

/**
 * `value` as a go-bexpr string literal. The go-bexpr Consul uses has no escape for the quote itself
 * (a `\"` still ends the string) and unquotes `\` sequences the Go way, so a value holding either,
 * or a control character, is refused rather than let out of its quotes. Node names and container
 * IDs never hold one (their schema patterns).
 */
function bexprString(value: string): string {
  if (/["\\\p{Cc}]/u.test(value)) throw new Error(`cannot quote ${JSON.stringify(value)} in a Consul filter`);
  return `"${value}"`;
}

/** The agent filter (`?filter=`) of the services berth registered for `node`. */
export function ownedByNode(node: string): string {
  return `Meta.${OWNER_META.node} == ${bexprString(node)}`;
}

/**
 * Services berth registered for one container incarnation on its node (not the Connect sidecars the
 * agent created for them: those carry `berth_sidecar_of` instead, see mapping/sidecars.ts).
 */
export function ownedByContainer(node: string, containerId: string): string {
  return `${ownedByNode(node)} and Meta.${OWNER_META.container} == ${bexprString(containerId)}`;
}

/** Consul's limits on service Meta (agent/structs ValidateServiceMetadata). */
export const META_LIMITS = { pairs: 64, keyLength: 128, valueBytes: 512 } as const;
const META_KEY = /^[A-Za-z0-9_-]+$/;
const RESERVED_PREFIX = "berth_";

function problemWith(key: string, value: string): string | undefined {
  if (!META_KEY.test(key)) return "a Meta key may hold only letters, digits, _ and -";
  if (key.length > META_LIMITS.keyLength) return `a Meta key is at most ${META_LIMITS.keyLength} characters`;
  if (key.startsWith("consul-")) return "the consul- prefix is reserved by Consul";
  if (key.startsWith(RESERVED_PREFIX)) return `the ${RESERVED_PREFIX} prefix is reserved for berth's ownership keys`;
  if (Buffer.byteLength(value) > META_LIMITS.valueBytes) return `a Meta value is at most ${META_LIMITS.valueBytes} bytes`;
  return undefined;
}

/**
 * Every key berth does not read itself becomes a Meta pair (`SERVICE_REGION=us2` → `region: us2`).
 * A pair Consul would reject is dropped with a warning instead of failing the registration; at most
 * 64 pairs in all, berth's own included (ownership, the hash, and `own`) — those are always present and win.
 */
export function metaFor(
  keys: PortKeys,
  node: string,
  containerId: string,
  warn: Warn,
  own: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const pairs: [string, string][] = [];
  const room = META_LIMITS.pairs - Object.keys(OWNER_META).length - Object.keys(own).length;
  const candidates = [...keys].filter(([key]) => !isRecognisedKey(key)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [key, { value }] of candidates) {
    const problem = problemWith(key, value);
    if (problem !== undefined) warn(`Meta key "${key}" dropped: ${problem}`);
    else if (pairs.length >= room) warn(`Meta key "${key}" dropped: Consul allows ${META_LIMITS.pairs} pairs, berth's own included`);
    else pairs.push([key, value]);
  }
  pairs.push(...Object.entries(own), [OWNER_META.node, node], [OWNER_META.container, containerId]);
  return Object.fromEntries(pairs);
}
