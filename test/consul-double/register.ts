// PUT /v1/agent/service/register after decoding: the validation steps of §2.5 (each a
// function so the route can interleave token resolution), and the conversion of a
// ServiceDefinition into local-state records.
import { isIPv4, isIPv6 } from "node:net";
import type { CheckBody, ServiceBody } from "./bodies.ts";
import { nestedSidecarProblems, withoutSidecarService } from "./connect-rules.ts";
import { formatGoDuration } from "./duration.ts";
import { HttpError } from "./http.ts";
import type { ServiceAddress, StoredCheck, StoredService } from "./types.ts";

const STATUSES = ["passing", "warning", "critical"];

export function checkNameAndAddress(body: ServiceBody): void {
  if (!body.Name) throw new HttpError(400, "Missing service name");
  if (body.Address === "0.0.0.0" || body.Address === "::" || body.Address === "[::]") throw new HttpError(400, "Invalid service address");
}

export function validateMeta(meta: Record<string, string>): void {
  const entries = Object.entries(meta);
  if (entries.length > 64) throw new Error("Node metadata cannot contain more than 64 key/value pairs");
  for (const [k, v] of entries) {
    const pair = (msg: string) => new Error(`Couldn't load metadata pair ('${k}', '${v}'): ${msg}`);
    if (k === "") throw pair("Key cannot be blank");
    if (!/^[a-zA-Z0-9_-]+$/.test(k)) throw pair("Key contains invalid characters");
    if (k.length > 128) throw pair("Key is too long (limit: 128 characters)");
    if (k.startsWith("consul-")) throw pair("Key prefix 'consul-' is reserved for internal use");
    if (Buffer.byteLength(v) > 512) throw pair("Value is too long (limit: 512 characters)");
  }
}

const isScript = (c: CheckBody) => (c.ScriptArgs?.length ?? 0) > 0;
const isAlias = (c: CheckBody) => !!c.AliasNode || !!c.AliasService;

/** CheckType.Validate. */
export function validateCheck(c: CheckBody): void {
  const interval = c.Interval ?? 0;
  const ttl = c.TTL ?? 0;
  const intervalCheck = isScript(c) || !!c.HTTP || !!c.TCP || !!c.UDP || !!c.GRPC || !!c.H2PING || !!c.OSService;
  if (interval > 0 && ttl > 0) throw new Error("Interval and TTL cannot both be specified");
  if (intervalCheck && interval <= 0) throw new Error("Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or OSService checks");
  if (intervalCheck && isAlias(c)) throw new Error("Interval cannot be set for Alias checks");
  if (isAlias(c) && ttl > 0) throw new Error("TTL must be not be set for Alias checks");
  if (!intervalCheck && !isAlias(c) && ttl <= 0) throw new Error("TTL must be > 0 for TTL checks");
  if ((c.OutputMaxSize ?? 0) < 0) throw new Error("MaxOutputMaxSize must be positive");
  if ((c.FailuresBeforeWarning ?? 0) > (c.FailuresBeforeCritical ?? 0))
    throw new Error("FailuresBeforeWarning can't be higher than FailuresBeforeCritical");
}

/** CheckType.Type(). */
export function checkType(c: CheckBody): string {
  const interval = (c.Interval ?? 0) > 0;
  if (c.GRPC && interval) return "grpc";
  if (c.HTTP && interval) return "http";
  if ((c.TTL ?? 0) > 0) return "ttl";
  if (c.TCP && interval) return "tcp";
  if (c.UDP && interval) return "udp";
  if (isAlias(c)) return "alias";
  if (isScript(c) && c.DockerContainerID) return "docker";
  if (isScript(c) && interval) return "script";
  if (c.H2PING && interval) return "h2ping";
  if (c.OSService && interval) return "os_service";
  return "";
}

/** ServiceDefinition.CheckTypes: an all-zero `Check` is ignored, `Checks` entries are not. */
export function checkTypesOf(body: ServiceBody): CheckBody[] {
  const check = body.Check && Object.values(body.Check).some((v) => v !== "" && v !== 0 && v !== false) ? [body.Check] : [];
  return [...check, ...(body.Checks ?? [])];
}

/** Steps 6–10: weights, meta, NodeService.Validate, each check's Validate and Status. */
export function validateService(body: ServiceBody): CheckBody[] {
  const w = body.Weights;
  if (w) {
    if ((w.Passing ?? 0) < 1) throw new HttpError(400, "Invalid Weights: Passing must be greater than 0");
    if ((w.Warning ?? 0) < 0) throw new HttpError(400, "Invalid Weights: Warning must be greater or equal than 0");
    if ((w.Passing ?? 0) > 65535 || (w.Warning ?? 0) > 65535)
      throw new HttpError(400, "Invalid Weights: DNS Weight must be between 0 and 65535");
  }
  try {
    validateMeta(body.Meta ?? {});
  } catch (err) {
    throw new HttpError(400, `Invalid Service Meta: ${(err as Error).message}`);
  }
  const problems = nodeServiceProblems(body);
  if (problems.length > 0) {
    const n = problems.length === 1 ? "1 error occurred" : `${problems.length} errors occurred`;
    throw new HttpError(400, `Validation failed: ${n}:\n${problems.map((p) => `\t* ${p}`).join("\n")}\n\n`);
  }
  const checks = checkTypesOf(body);
  for (const c of checks) {
    try {
      validateCheck(c);
    } catch (err) {
      throw new HttpError(400, `Invalid check: ${(err as Error).message}`);
    }
  }
  if (checks.some((c) => c.Status && !STATUSES.includes(c.Status))) {
    throw new HttpError(400, "Status for checks must 'passing', 'warning', 'critical'");
  }
  return checks;
}

function nodeServiceProblems(body: ServiceBody): string[] {
  const problems: string[] = [];
  const proxy = (body.Proxy ?? {}) as { DestinationServiceName?: unknown };
  const native = (body.Connect as { Native?: unknown } | undefined)?.Native === true;
  const noPort = !body.Port && !body.SocketPath;
  if (body.Kind === "connect-proxy") {
    if (!proxy.DestinationServiceName) problems.push("Proxy.DestinationServiceName must be non-empty for Connect proxy services");
    if (noPort) problems.push("Port or SocketPath must be set for a Connect proxy");
    if (native) problems.push("A Proxy cannot also be Connect Native, only typical services");
  } else if (native && noPort) {
    problems.push("Port or SocketPath must be set for a Connect native service.");
  }
  problems.push(...nestedSidecarProblems(body));
  return problems;
}

/** AddService's tagged-address handling: explicit lan/wan_ipv4/6 must parse (500), then defaults. */
export function taggedAddressesFor(body: ServiceBody): Record<string, ServiceAddress> {
  const out: Record<string, ServiceAddress> = {};
  for (const [k, v] of Object.entries(body.TaggedAddresses ?? {})) out[k] = { Address: v.Address ?? "", Port: v.Port ?? 0 };
  const v4 = (a: string) => isIPv4(a) || (isIPv6(a) && /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(a));
  for (const key of ["lan_ipv4", "wan_ipv4", "lan_ipv6", "wan_ipv6"]) {
    const sa = out[key];
    if (!sa) continue;
    const ok = key.endsWith("4") ? v4(sa.Address) : isIPv6(sa.Address) && !v4(sa.Address);
    if (!ok) throw new Error(`Service tagged address "${key}" must be a valid ${key.endsWith("4") ? "ipv4" : "ipv6"} address`);
  }
  const address = body.Address ?? "";
  const family = v4(address) ? ["lan_ipv4", "wan_ipv4"] : isIPv6(address) ? ["lan_ipv6", "wan_ipv6"] : [];
  for (const key of family) out[key] ??= { Address: address, Port: body.Port ?? 0 };
  return out;
}

export function toStoredService(body: ServiceBody, tagged: Record<string, ServiceAddress>): StoredService {
  const name = body.Name ?? "";
  const w = body.Weights;
  return {
    kind: body.Kind ?? "",
    id: body.ID || name,
    name,
    tags: body.Tags ?? [],
    meta: body.Meta ?? null,
    port: body.Port ?? 0,
    address: body.Address ?? "",
    socketPath: body.SocketPath ?? "",
    taggedAddresses: tagged,
    weights: w ? { Passing: w.Passing ?? 0, Warning: w.Warning ?? 0 } : { Passing: 1, Warning: 1 },
    enableTagOverride: body.EnableTagOverride ?? false,
    proxy: body.Proxy,
    connect: withoutSidecarService(body.Connect),
    createIndex: 0,
    modifyIndex: 0,
  };
}

/** The HealthCheck created for one CheckType (§2.6). `formatZero` is "" for service checks. */
export function toStoredCheck(c: CheckBody, id: string, name: string, serviceId: string, formatZero: string): StoredCheck {
  const fmt = (ns: number | undefined) => (ns ? formatGoDuration(ns) : formatZero);
  const status = c.Status || "critical";
  return {
    id,
    name,
    status,
    notes: c.Notes ?? "",
    output: "",
    serviceId,
    type: checkType(c),
    interval: fmt(c.Interval),
    timeout: fmt(c.Timeout),
    ttlNs: c.TTL ?? 0,
    intervalNs: c.Interval ?? 0,
    timeoutNs: c.Timeout ?? 0,
    outputMaxSize: c.OutputMaxSize || 4096,
    deregisterAfterNs: c.DeregisterCriticalServiceAfter ?? 0,
    probe: {
      ...(c.HTTP ? { http: c.HTTP } : {}),
      ...(c.Method ? { method: c.Method } : {}),
      ...(c.Header ? { header: c.Header } : {}),
      ...(c.Body ? { body: c.Body } : {}),
      ...(c.TCP ? { tcp: c.TCP } : {}),
    },
    synced: { status, output: "" },
    criticalSince: undefined,
    createIndex: 0,
    modifyIndex: 0,
  };
}

export function serviceChecks(checks: CheckBody[], svc: StoredService): StoredCheck[] {
  return checks.map((c, i) => {
    const id = c.CheckID || (checks.length === 1 ? `service:${svc.id}` : `service:${svc.id}:${i + 1}`);
    return toStoredCheck(c, id, c.Name || `Service '${svc.name}' check`, svc.id, "");
  });
}

export const hasScriptCheck = (checks: CheckBody[]) => checks.some(isScript);
