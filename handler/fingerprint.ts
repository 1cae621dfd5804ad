import { createHash } from "node:crypto";
import type { AgentService, ServiceRegistration } from "./consul.ts";
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

/**
 * True when the agent's listing holds this service as registered from exactly this (stamped) body.
 * Own keys only: a service may be called `toString` or `__proto__` (SERVICE_ID is the user's).
 */
export function isCurrent(listing: Readonly<Record<string, AgentService>>, service: ServiceRegistration): boolean {
  const hash = service.Meta?.[OWNER_META.hash];
  const existing = Object.hasOwn(listing, service.ID) ? listing[service.ID] : undefined;
  return existing !== undefined && hash !== undefined && existing.Meta[OWNER_META.hash] === hash;
}
