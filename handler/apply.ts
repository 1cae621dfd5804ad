import type { ContainerEvent } from "../schemas/index.ts";
import type { AgentClient, AgentService } from "./consul.ts";
import { isCurrent, stamped } from "./fingerprint.ts";
import { healthUpdates } from "./health-check.ts";
import { ownedByContainer, servicesFor } from "./mapping.ts";
import type { MappingSettings } from "./settings.ts";

/** `kept`: the mapping asked to leave the container's services as they are (on-success policy). */
export type Applied = { registered: string[]; unchanged: string[]; deregistered: string[]; kept: boolean; warnings: string[] };

/** The listing of a container the agent holds nothing of (its first state). */
export const NOTHING_LISTED: Readonly<Record<string, AgentService>> = Object.freeze(Object.create(null) as Record<string, AgentService>);

export const NOTHING_APPLIED: Applied = Object.freeze({ registered: [], unchanged: [], deregistered: [], kept: false, warnings: [] });

/**
 * Makes the agent hold exactly the services this container incarnation should have: registers
 * the desired ones the agent does not already hold as they are, and removes berth's others for
 * the same container.
 * Services that berth's Meta does not mark as this container's are never looked at. When the
 * mapping says to keep them (a failed exit under BERTH_DEREGISTER=on-success), nothing is called.
 * `listed`: the container's services as the caller has just listed them (reconciliation lists a
 * whole node at once); else they are listed here.
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
  const existing = listed ?? (await agent.services(ownedByContainer(event.data.node.name, event.data.container.id)));
  const registered: string[] = [];
  const unchanged: string[] = [];
  for (const service of desired) {
    if (isCurrent(existing, service)) unchanged.push(service.ID);
    else {
      await agent.register(service);
      registered.push(service.ID);
    }
  }
  // After registering: a re-registration keeps a check's old status, so the status is always set.
  for (const u of healthUpdates(event, desired, settings)) await agent.updateCheck(u.checkId, u.status, u.output);
  const keep = new Set(desired.map((s) => s.ID));
  const deregistered: string[] = [];
  for (const id of Object.keys(existing)) {
    if (!keep.has(id) && (await agent.deregister(id))) deregistered.push(id);
  }
  return { registered, unchanged, deregistered, kept: false, warnings };
}
