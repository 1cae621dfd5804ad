import type { ContainerEvent } from "../schemas/index.ts";
import type { AgentClient } from "./consul.ts";
import { ownedByContainer, servicesFor } from "./mapping.ts";
import type { MappingSettings } from "./settings.ts";

/** `kept`: the mapping asked to leave the container's services as they are (on-success policy). */
export type Applied = { registered: string[]; deregistered: string[]; kept: boolean; warnings: string[] };

export const NOTHING_APPLIED: Applied = Object.freeze({ registered: [], deregistered: [], kept: false, warnings: [] });

/**
 * Makes the agent hold exactly the services this container incarnation should have: registers
 * the desired ones (idempotent in Consul) and removes berth's others for the same container.
 * Services that berth's Meta does not mark as this container's are never looked at. When the
 * mapping says to keep them (a failed exit under BERTH_DEREGISTER=on-success), nothing is called.
 */
export async function applyToAgent(agent: AgentClient, event: ContainerEvent, settings: MappingSettings): Promise<Applied> {
  const { services: desired, keep: leaveAsIs, warnings } = servicesFor(event, settings);
  if (leaveAsIs) return { registered: [], deregistered: [], kept: true, warnings };
  const existing = await agent.services(ownedByContainer(event.data.node.name, event.data.container.id));
  for (const service of desired) await agent.register(service);
  const keep = new Set(desired.map((s) => s.ID));
  const deregistered: string[] = [];
  for (const id of Object.keys(existing)) {
    if (!keep.has(id) && (await agent.deregister(id))) deregistered.push(id);
  }
  return { registered: desired.map((s) => s.ID), deregistered, kept: false, warnings };
}
