// Connect sidecar registration, as the agent does it (agent/sidecar_service.go, agent.go
// addServiceLocked and removeServiceSidecars): a service registered with Connect.SidecarService
// makes the agent register a second service, `<ID>-sidecar-proxy`, and remove it with the first.
// What the agent fills in when the nested definition leaves it out:
//   Kind connect-proxy; Name `<Name>-sidecar-proxy`; Tags and Meta copied from the service when the
//   sidecar has none; Address inherited; Port the lowest free one of the sidecar range
//   (21000–21255; the same as before when re-registered); Proxy.DestinationServiceName/ID = the
//   service's; Proxy.LocalServiceAddress 127.0.0.1 and LocalServicePort = the service's port; and,
//   without checks of its own, a TCP check "Connect Sidecar Listening" (10s) on the sidecar's address
//   and port plus an alias check "Connect Sidecar Aliasing <service ID>".
import type { CheckBody, ServiceBody } from "./bodies.ts";
import type { Ctx } from "./context.ts";
import { HttpError } from "./http.ts";
import { checkTypesOf, serviceChecks, taggedAddressesFor, toStoredService, validateCheck, validateMeta } from "./register.ts";
import { SIDECAR_SUFFIX, type LocalSidecar } from "./sidecar-local.ts";
import type { StoredService } from "./types.ts";

/** The agent's defaults for `ports.sidecar_min_port` / `sidecar_max_port`. */
export const SIDECAR_PORTS = { min: 21000, max: 21255 } as const;

const nested = (body: ServiceBody) => (body.Connect as { SidecarService?: ServiceBody } | undefined)?.SidecarService;

/** Step 11: the nested definition's checks (before ACLs), 400 "Invalid check in sidecar_service: …". */
export function validateSidecarChecks(body: ServiceBody): void {
  const sidecar = nested(body);
  if (!sidecar) return;
  for (const c of checkTypesOf(sidecar)) {
    try {
      validateCheck(c);
    } catch (err) {
      throw new HttpError(400, `Invalid check in sidecar_service: ${(err as Error).message}`);
    }
    if (c.Status && !["passing", "warning", "critical"].includes(c.Status)) {
      throw new HttpError(400, "Status for checks must 'passing', 'warning', 'critical'");
    }
  }
}

/** sidecarPortFromServiceIDLocked: the port it had, else the lowest one of the range no service uses. */
function sidecarPort(services: Map<string, StoredService>, sidecarId: string): number {
  const used = new Set<number>();
  for (const s of services.values()) {
    if (s.port < SIDECAR_PORTS.min || s.port > SIDECAR_PORTS.max) continue;
    if (s.id === sidecarId) return s.port;
    used.add(s.port);
  }
  for (let p: number = SIDECAR_PORTS.min; p <= SIDECAR_PORTS.max; p++) if (!used.has(p)) return p;
  throw new Error(
    `no port provided for sidecar_service and none left in the configured range [${SIDECAR_PORTS.min}, ${SIDECAR_PORTS.max}]`,
  );
}

const addressPort = (address: string, port: number) => (address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`);

/**
 * After the service's own ACL vet: the sidecar the body asks for, validated (400 "Invalid
 * SidecarService: …") and vetted (service:write on its name and on the service it proxies for), or
 * undefined. `register` adds it to local state once the service itself is added.
 */
export function planSidecar(ctx: Ctx, body: ServiceBody): { register(replaceExisting: boolean): void } | undefined {
  const def = nested(body);
  if (!def) return undefined;
  const parentId = body.ID || body.Name || "";
  const parentName = body.Name ?? "";
  if (def.Meta) {
    try {
      validateMeta(def.Meta);
    } catch (err) {
      throw new HttpError(400, `Invalid SidecarService: ${(err as Error).message}`);
    }
  }
  const name = def.Name || `${parentName}${SIDECAR_SUFFIX}`;
  const authz = ctx.authz();
  for (const n of [name, parentName]) if (!authz.serviceWrite(n)) throw authz.denied("service", "write", n);
  return {
    register(replaceExisting) {
      const id = `${parentId}${SIDECAR_SUFFIX}`;
      const port = def.Port || sidecarPort(ctx.store.services, id);
      const { DestinationServiceName, DestinationServiceID, LocalServiceAddress, LocalServicePort, ...proxy } = (def.Proxy ?? {}) as Record<
        string,
        unknown
      >;
      const local = typeof LocalServiceAddress === "string" && LocalServiceAddress !== "" ? LocalServiceAddress : "127.0.0.1";
      const sidecarBody: ServiceBody = {
        ...def,
        Kind: def.Kind || "connect-proxy",
        ID: id,
        Name: name,
        Tags: def.Tags?.length ? def.Tags : [...(body.Tags ?? [])],
        Meta: def.Meta && Object.keys(def.Meta).length > 0 ? def.Meta : { ...(body.Meta ?? {}) },
        Address: def.Address || body.Address || "",
        Port: port,
        // api.AgentServiceConnectProxyConfig's order; its struct fields are never omitted.
        Proxy: {
          DestinationServiceName: DestinationServiceName || parentName,
          DestinationServiceID: DestinationServiceID || parentId,
          LocalServiceAddress: local,
          LocalServicePort: LocalServicePort || (body.Port ?? 0),
          ...proxy,
          MeshGateway: proxy["MeshGateway"] ?? {},
          Expose: proxy["Expose"] ?? {},
        },
      };
      const svc: LocalSidecar = toStoredService(sidecarBody, taggedAddressesFor(sidecarBody));
      svc.locallyRegisteredAsSidecarOf = parentId;
      let checks: CheckBody[] = checkTypesOf(def);
      if (checks.length === 0) {
        checks = [
          { Name: "Connect Sidecar Listening", TCP: addressPort(svc.address || local, port), Interval: 10e9 },
          { Name: `Connect Sidecar Aliasing ${parentId}`, AliasService: parentId },
        ];
      }
      ctx.store.registerService(svc, serviceChecks(checks, svc), replaceExisting);
    },
  };
}
