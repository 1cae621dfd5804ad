// Pure: Connect sidecars in berth's view of an agent. A service registered with
// Connect.SidecarService makes the agent create `<ID>-sidecar-proxy` (kind connect-proxy) and remove
// it with the service. berth gives the sidecar its service's Meta with `berth_sidecar_of` (the
// container ID) in place of `berth_container`: it is berth's on the node (`berth_node`), but never
// one of the container's own services, so applying a container never removes it — the agent does,
// with its service. Reconciliation lists a node at once and judges each sidecar by its service: one
// whose service is there is the agent's to keep (Consul keeps it even when the service is registered
// again without a sidecar, until the service goes); one whose service is gone is stale. A service
// whose sidecar went missing is registered again.
import { parentIdOf, sidecarIdOf } from "./connect.ts";
import type { AgentService, ServiceConnect } from "../consul/types.ts";
import { BERTH_META, OWNER_META } from "./meta.ts";

const own = (listing: Readonly<Record<string, AgentService>>, id: string) => (Object.hasOwn(listing, id) ? listing[id] : undefined);
const wantsSidecar = (s: AgentService) => s.Meta[BERTH_META.sidecar] === "true";

/**
 * `connect` with the sidecar's Meta: the service's own pairs (Consul would copy them all), with
 * `berth_sidecar_of` in place of berth's container ownership and marker.
 */
export function withSidecarMeta(connect: { Connect?: ServiceConnect }, meta: Record<string, string>): { Connect?: ServiceConnect } {
  const sidecar = connect.Connect?.SidecarService;
  if (!sidecar) return connect;
  const { [OWNER_META.container]: containerId = "", [BERTH_META.sidecar]: _marker, ...rest } = meta;
  return { Connect: { ...connect.Connect, SidecarService: { Meta: { ...rest, [BERTH_META.sidecarOf]: containerId }, ...sidecar } } };
}

/**
 * The container a berth-owned service of a node's listing belongs to, and how it counts among
 * that container's services (`service` undefined: not at all):
 * - a sidecar whose service (same node and container) is there: not at all — the agent keeps it
 *   with its service and removes it with it;
 * - a sidecar of berth's whose service is gone: as is, so it is stale and removed;
 * - a service that asks for a sidecar the agent no longer holds: without its hash, so it counts as
 *   changed and is registered again, which makes the agent create the sidecar again;
 * - any other service: as is. Services berth's Meta does not tie to a container: undefined.
 */
export function containerServiceOf(
  found: AgentService,
  listing: Readonly<Record<string, AgentService>>,
): { containerId: string; service: AgentService | undefined } | undefined {
  const node = found.Meta[OWNER_META.node];
  const sidecarOf = found.Meta[BERTH_META.sidecarOf];
  const parentId = parentIdOf(found);
  if (sidecarOf && parentId !== undefined) {
    const parent = own(listing, parentId);
    const kept = parent && parent.Meta[OWNER_META.node] === node && parent.Meta[OWNER_META.container] === sidecarOf;
    return { containerId: sidecarOf, service: kept ? undefined : found };
  }
  const containerId = found.Meta[OWNER_META.container];
  if (!containerId) return undefined;
  if (!wantsSidecar(found)) return { containerId, service: found };
  const sidecar = own(listing, sidecarIdOf(found.ID));
  if (sidecar !== undefined && parentIdOf(sidecar) === found.ID && sidecar.Meta[BERTH_META.sidecarOf] === containerId) {
    return { containerId, service: found };
  }
  const { [OWNER_META.hash]: _missingSidecar, ...meta } = found.Meta;
  return { containerId, service: { ...found, Meta: meta } };
}
