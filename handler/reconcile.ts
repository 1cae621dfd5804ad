// Pure: which containers of a node need their services fixed, from one listing of the agent.
import { isContainerId, type ContainerEvent } from "../schemas/index.ts";
import type { AgentService } from "../consul/client.ts";
import { isCurrent, stamped } from "../mapping/fingerprint.ts";
import { servicesFor } from "../mapping/services-for.ts";
import type { MappingSettings } from "../mapping/settings.ts";
import { containerServiceOf } from "../mapping/sidecars.ts";

export type NodeDrift = {
  /** Containers whose services differ from what their latest state asks for. */
  containers: string[];
  /** Services to add or update, and services to remove, in all. */
  missing: number;
  stale: number;
};

/**
 * The agent's services by the container their ownership Meta names, keyed by service ID, as the
 * container's apply sees them: Connect sidecars the agent keeps with their service are left out,
 * and a service whose sidecar went missing is listed as changed (mapping/sidecars.ts).
 */
export function servicesByContainer(actual: Readonly<Record<string, AgentService>>): Map<string, Record<string, AgentService>> {
  const byContainer = new Map<string, Record<string, AgentService>>();
  for (const found of Object.values(actual)) {
    const { containerId: id, service } = containerServiceOf(found, actual) ?? {};
    if (!id || !isContainerId(id)) continue; // not marked as a container's: not berth's to judge
    if (service === undefined) continue;
    let services = byContainer.get(id);
    // Null prototype: a service ID such as `__proto__` is a plain key here.
    if (!services) byContainer.set(id, (services = Object.create(null) as Record<string, AgentService>));
    services[service.ID] = service;
  }
  return byContainer;
}

/**
 * Compares each container's desired services (its latest state, mapped) with the agent's
 * berth-owned services of the node. A service whose container berth has no state for is stale.
 * Containers under the on-success keep rule are left as they are. A Connect sidecar the agent keeps
 * for its service is neither missing nor stale; with tag override on, tags others set are no drift
 * (see isCurrent).
 */
export function nodeDrift(
  latest: ReadonlyMap<string, ContainerEvent>,
  actual: Readonly<Record<string, AgentService>>,
  settings: MappingSettings,
): NodeDrift {
  const listed = servicesByContainer(actual);
  const drift: NodeDrift = { containers: [], missing: 0, stale: 0 };
  for (const [id, event] of latest) {
    const mapping = servicesFor(event, settings);
    if (mapping.keep) continue;
    const desired = mapping.services.map(stamped);
    const mine = listed.get(id) ?? {};
    const have = Object.values(mine);
    const wanted = new Set(desired.map((s) => s.ID));
    const missing = desired.filter((s) => !isCurrent(mine, s)).length;
    const stale = have.filter((s) => !wanted.has(s.ID)).length;
    if (missing + stale > 0) drift.containers.push(id);
    drift.missing += missing;
    drift.stale += stale;
  }
  for (const [id, mine] of listed) {
    if (latest.has(id)) continue;
    drift.containers.push(id);
    drift.stale += Object.keys(mine).length;
  }
  return drift;
}
