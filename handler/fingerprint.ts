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

/** True when the agent's copy was registered from exactly this (stamped) body. */
export function isCurrent(existing: AgentService | undefined, service: ServiceRegistration): boolean {
  const hash = service.Meta?.[OWNER_META.hash];
  return existing !== undefined && hash !== undefined && existing.Meta[OWNER_META.hash] === hash;
}
