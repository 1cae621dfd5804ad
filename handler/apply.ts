import type { ContainerEvent } from "../schemas/index.ts";
import { ConsulError, type AgentClient, type AgentService, type ServiceRegistration } from "../consul/client.ts";
import type { Applied } from "./applied.ts";
import { RefusedServices, registerInstead, type Refusal } from "./fallback.ts";
import { isCurrent, stamped } from "../mapping/fingerprint.ts";
import { healthUpdates } from "../mapping/health-check.ts";
import { ownedByContainer, servicesFor } from "../mapping/services-for.ts";
import { OWNER_META } from "../mapping/meta.ts";
import type { MappingSettings } from "../mapping/settings.ts";

export type { Fallback, Refusal } from "./fallback.ts";
export { RefusedServices, fallbackFor, refusedCheckId } from "./fallback.ts";

export type { Applied } from "./applied.ts";

/** The listing of a container the agent holds nothing of (its first state). */
export const NOTHING_LISTED: Readonly<Record<string, AgentService>> = Object.freeze(Object.create(null) as Record<string, AgentService>);

export const NOTHING_APPLIED: Applied = Object.freeze({
  registered: [],
  unchanged: [],
  deregistered: [],
  kept: false,
  warnings: [],
  refused: [],
});

/**
 * The services of a listing whose ownership Meta names this container: the agent filtered them
 * already, unless it is older than Consul 1.5, which ignores `?filter=` and lists every service.
 */
function ownedOnly(listing: Readonly<Record<string, AgentService>>, node: string, containerId: string): Record<string, AgentService> {
  const owned = Object.create(null) as Record<string, AgentService>;
  for (const [id, service] of Object.entries(listing)) {
    if (service.Meta[OWNER_META.node] === node && service.Meta[OWNER_META.container] === containerId) owned[id] = service;
  }
  return owned;
}

/**
 * Makes the agent hold exactly the services this container incarnation should have: registers
 * the desired ones the agent does not already hold as they are, and removes berth's others for
 * the same container.
 * Services that berth's Meta does not mark as this container's are never looked at. When the
 * mapping says to keep them (a failed exit under BERTH_DEREGISTER=on-success), nothing is called.
 * `listed`: the container's services as the caller has just listed them (reconciliation lists a
 * whole node at once); else they are listed here.
 *
 * Each service stands alone: one the agent refuses for good gets its fallback (fallbackFor) and
 * the others are registered all the same; the refusals are then thrown together (RefusedServices).
 * A failure waiting can fix (unreachable, a passing 5xx) ends the apply at once: it is done again.
 */
export async function applyToAgent(
  agent: AgentClient,
  event: ContainerEvent,
  settings: MappingSettings,
  listed?: Readonly<Record<string, AgentService>>,
): Promise<Applied> {
  const mapping = servicesFor(event, settings);
  const { keep: leaveAsIs, warnings } = mapping;
  if (leaveAsIs) return { ...NOTHING_APPLIED, kept: true, warnings };
  const desired = mapping.services.map(stamped);
  const { name: node } = event.data.node;
  const existing =
    listed ?? ownedOnly(await agent.services(ownedByContainer(node, event.data.container.id)), node, event.data.container.id);
  const registered: string[] = [];
  const unchanged: string[] = [];
  const refusals: Refusal[] = [];
  /** The bodies the agent now holds, as far as berth registered them. */
  const held: ServiceRegistration[] = [];
  for (const service of desired) {
    if (isCurrent(existing, service)) {
      unchanged.push(service.ID);
      held.push(service);
      continue;
    }
    try {
      await agent.register(service);
      registered.push(service.ID);
      held.push(service);
    } catch (err) {
      if (!(err instanceof ConsulError) || err.retryable) throw err;
      const instead = await registerInstead(agent, service, err);
      refusals.push(instead.refusal);
      if (instead.held) held.push(instead.held);
    }
  }
  // After registering: a re-registration keeps a check's old status, so the status is always set.
  for (const u of healthUpdates(event, held, settings)) await agent.updateCheck(u.checkId, u.status, u.output);
  const keep = new Set(desired.map((s) => s.ID));
  const deregistered: string[] = [];
  for (const id of Object.keys(existing)) {
    if (!keep.has(id) && (await agent.deregister(id))) deregistered.push(id);
  }
  const applied = { registered, unchanged, deregistered, kept: false, warnings, refused: refusals.map((r) => r.serviceId) };
  if (refusals.length > 0) throw new RefusedServices(refusals, applied);
  return applied;
}
