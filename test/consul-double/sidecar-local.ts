// A sidecar in the agent's local state: how it is named and which service it goes with (the store
// removes it with that service; sidecar.ts registers it).
import type { StoredService } from "./types.ts";

export const SIDECAR_SUFFIX = "-sidecar-proxy";

/** A sidecar in local state carries the agent's LocallyRegisteredAsSidecar flag: the ID of its service. */
export type LocalSidecar = StoredService & { locallyRegisteredAsSidecarOf?: string };

/** removeServiceSidecars: the sidecar `<ID>-sidecar-proxy` goes with service `<ID>`, if the agent registered it as its sidecar. */
export function sidecarToRemoveWith(services: Map<string, StoredService>, serviceId: string): string | undefined {
  const sidecar: LocalSidecar | undefined = services.get(`${serviceId}${SIDECAR_SUFFIX}`);
  return sidecar?.locallyRegisteredAsSidecarOf === serviceId ? sidecar.id : undefined;
}
