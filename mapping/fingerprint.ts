import { createHash } from "node:crypto";
import type { AgentService, ServiceRegistration } from "../consul/types.ts";
import { OWNER_META } from "./meta.ts";

/**
 * Stamps a registration with a hash of its whole body in Meta, so berth can tell from one
 * `GET /v1/agent/services` whether the agent already holds exactly this definition (checks
 * included, which that listing does not show) and skip the PUT: Consul watches then do not
 * fire for nothing.
 */
export function stamped(service: ServiceRegistration): ServiceRegistration {
  const { [OWNER_META.hash]: _old, ...meta } = service.Meta ?? {};
  const body = { ...service, Meta: meta };
  const hash = createHash("sha256").update(JSON.stringify(body)).digest("hex").slice(0, 16);
  return { ...service, Meta: { ...meta, [OWNER_META.hash]: hash } };
}

const sameTags = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((t, i) => t === b[i]);

/**
 * True when the agent's listing holds this service as registered from exactly this (stamped) body,
 * with its tags — unless tag override is on: then tags set by others in the catalog (which the
 * agent takes over) are theirs to set, and no reason to register again (gliderlabs/registrator#347).
 * Own keys only: a service may be called `toString` or `__proto__` (SERVICE_ID is the user's).
 */
export function isCurrent(listing: Readonly<Record<string, AgentService>>, service: ServiceRegistration): boolean {
  const hash = service.Meta?.[OWNER_META.hash];
  const existing = Object.hasOwn(listing, service.ID) ? listing[service.ID] : undefined;
  if (existing === undefined || hash === undefined || existing.Meta[OWNER_META.hash] !== hash) return false;
  return service.EnableTagOverride === true || sameTags(existing.Tags, service.Tags ?? []);
}
