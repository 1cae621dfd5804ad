import type { ContainerEvent } from "../schemas/index.ts";
import type { AgentClient } from "./consul.ts";
import { ownedByContainer, servicesFor } from "./mapping.ts";

export type Applied = { registered: string[]; deregistered: string[] };

/**
 * Makes the agent hold exactly the services this container incarnation should have: registers
 * the desired ones (idempotent in Consul) and removes berth's others for the same container.
 * Services that berth's Meta does not mark as this container's are never looked at.
 */
export async function applyToAgent(agent: AgentClient, event: ContainerEvent): Promise<Applied> {
  const desired = servicesFor(event);
  const existing = await agent.services(ownedByContainer(event.data.node.name, event.data.container.id));
  for (const service of desired) await agent.register(service);
  const keep = new Set(desired.map((s) => s.ID));
  const deregistered: string[] = [];
  for (const id of Object.keys(existing)) {
    if (!keep.has(id) && (await agent.deregister(id))) deregistered.push(id);
  }
  return { registered: desired.map((s) => s.ID), deregistered };
}
