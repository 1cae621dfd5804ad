// Pure: Consul Connect (service mesh) from SERVICE_CONNECT* keys (gliderlabs/registrator#630, #664).
// With a sidecar, the agent itself creates a second service, `<ID>-sidecar-proxy` (kind
// connect-proxy, Meta and Tags copied from the service, a port from its sidecar range), and removes
// it with the service: see mapping/sidecars.ts for how reconciliation tells it apart.
import type { ConnectUpstream, ServiceConnect } from "../consul/types.ts";
import { isOn, splitList, type PortKeys, type Warn } from "./service-keys.ts";

/** Consul's `structs.SidecarProxySuffix`. */
export const SIDECAR_SUFFIX = "-sidecar-proxy";
export const CONNECT_PROXY_KIND = "connect-proxy";

export const sidecarIdOf = (serviceId: string) => `${serviceId}${SIDECAR_SUFFIX}`;

/** The service a sidecar proxies for, from the sidecar's ID; undefined for any other ID. */
export function parentIdOf(service: { ID: string; Kind?: string | undefined }): string | undefined {
  if (service.Kind !== CONNECT_PROXY_KIND || !service.ID.endsWith(SIDECAR_SUFFIX)) return undefined;
  return service.ID.slice(0, -SIDECAR_SUFFIX.length) || undefined;
}

const UPSTREAM = /^([^:\s]+):(\d{1,5})$/;

/** `name:port,…` → one upstream each; malformed or repeated names and ports are dropped with a warning. */
function upstreamsOf(text: string, warn: Warn): ConnectUpstream[] {
  const upstreams: ConnectUpstream[] = [];
  for (const item of splitList(text)) {
    const m = UPSTREAM.exec(item);
    const port = Number(m?.[2]);
    if (!m || port < 1 || port > 65535) {
      warn(`SERVICE_CONNECT_UPSTREAMS: "${item}" is not <service>:<local port 1-65535>: ignored`);
    } else if (upstreams.some((u) => u.DestinationName === m[1] || u.LocalBindPort === port)) {
      warn(`SERVICE_CONNECT_UPSTREAMS: "${item}" repeats a service or a local port: ignored`);
    } else {
      upstreams.push({ DestinationName: m[1]!, LocalBindPort: port });
    }
  }
  return upstreams;
}

/** What SERVICE_CONNECT asks for: `sidecar`, `native`, or nothing (`none`, `false`, `off`, `no`, `0`). */
function modeOf(keys: PortKeys, warn: Warn): "sidecar" | "native" | undefined {
  const given = keys.get("connect")?.value.trim().toLowerCase();
  const native = isOn(keys, "connect_native", warn);
  let mode: "sidecar" | "native" | undefined;
  if (given === "sidecar" || given === "native") mode = given;
  else if (given !== undefined && !["none", "false", "off", "no", "0"].includes(given)) {
    warn(`SERVICE_CONNECT="${keys.get("connect")?.value}" is not sidecar or native: ignored`);
  }
  if (native && mode === "sidecar") warn("SERVICE_CONNECT_NATIVE is set: a Connect-native service needs no sidecar, none is asked for");
  return native ? "native" : mode;
}

/**
 * `Connect` for one service: `SERVICE_CONNECT=sidecar` → `SidecarService` (with
 * `SERVICE_CONNECT_UPSTREAMS=name:port,…` as its proxy's upstreams); `SERVICE_CONNECT_NATIVE=true`
 * (or `SERVICE_CONNECT=native`) → `Native`. Every key also has its per-port form.
 */
export function connectFor(keys: PortKeys, warn: Warn): { Connect?: ServiceConnect } {
  const mode = modeOf(keys, warn);
  const upstreamsText = keys.get("connect_upstreams")?.value;
  if (upstreamsText !== undefined && mode !== "sidecar") warn("SERVICE_CONNECT_UPSTREAMS needs SERVICE_CONNECT=sidecar: ignored");
  if (mode === "native") return { Connect: { Native: true } };
  if (mode !== "sidecar") return {};
  const upstreams = upstreamsOf(upstreamsText ?? "", warn);
  return { Connect: { SidecarService: upstreams.length > 0 ? { Proxy: { Upstreams: upstreams } } : {} } };
}
