// Agent service endpoints: self, services, service/:id, register, deregister, maintenance.
import { createHash } from "node:crypto";
import { serviceDefinitionSchema, type ServiceBody } from "./bodies.ts";
import { decodeOr400, filteredHeader, sortKeys, type Ctx, type Route } from "./context.ts";
import { agentServiceCfg, compileFilter } from "./filter-eval.ts";
import { FilterError } from "./filter.ts";
import { blockingWaitMs, goQuote, HttpError, parseGoBool, parseWait, rejectEnterpriseInputs } from "./http.ts";
import { checkNameAndAddress, serviceChecks, taggedAddressesFor, toStoredService, validateService } from "./register.ts";
import { planSidecar, validateSidecarChecks } from "./sidecar.ts";
import type { StoredService } from "./types.ts";
import { agentServiceView, CONSUL_VERSION, nodeMeta } from "./views.ts";

export function compileOr500(expression: string, cfg: Parameters<typeof compileFilter>[1]) {
  try {
    return compileFilter(expression, cfg);
  } catch (err) {
    if (err instanceof FilterError) throw new Error(`Failed to create boolean expression evaluator: ${err.message}`, { cause: err });
    throw err;
  }
}

/** vetServiceUpdate: 404 for an unknown ID (before ACLs), then service:write on its name. */
export function vetServiceUpdate(ctx: Ctx, id: string): StoredService {
  const authz = ctx.authz();
  const svc = ctx.store.services.get(id);
  if (!svc) throw new HttpError(404, `Unknown service ID ${goQuote(id)}. Ensure that the service ID is passed, not the service name.`);
  if (!authz.serviceWrite(svc.name)) throw authz.denied("service", "write", svc.name);
  return svc;
}

function self(ctx: Ctx) {
  const authz = ctx.authz();
  const { node, nodeId, address, datacenter } = ctx.identity;
  if (!authz.agentRead()) throw authz.denied("agent", "read", node);
  const Config = {
    Datacenter: datacenter,
    PrimaryDatacenter: datacenter,
    NodeName: node,
    NodeID: nodeId,
    Revision: "double",
    Server: true,
    Version: CONSUL_VERSION,
    BuildDate: "2023-11-03T00:00:00Z",
  };
  const Member = {
    Name: node,
    Addr: address,
    Port: 8301,
    Tags: {
      build: `${CONSUL_VERSION}:double`,
      dc: datacenter,
      id: nodeId,
      role: "consul",
      segment: "",
      vsn: "2",
      vsn_max: "3",
      vsn_min: "2",
    },
    Status: 1,
    ProtocolMin: 1,
    ProtocolMax: 5,
    ProtocolCur: 2,
    DelegateMin: 2,
    DelegateMax: 5,
    DelegateCur: 4,
  };
  const Coord = { Vec: [0, 0, 0, 0, 0, 0, 0, 0], Error: 1.5, Adjustment: 0, Height: 1e-5 };
  const Stats = {
    agent: {
      check_monitors: "0",
      check_ttls: String([...ctx.store.checks.values()].filter((c) => c.type === "ttl").length),
      checks: String(ctx.store.checks.size),
      services: String(ctx.store.services.size),
    },
  };
  return { json: { Config, DebugConfig: { Datacenter: datacenter, NodeName: node }, Coord, Member, Stats, Meta: nodeMeta() } };
}

function services(ctx: Ctx) {
  rejectEnterpriseInputs(ctx.query, ctx.headers);
  const authz = ctx.authz();
  const filter = compileOr500(ctx.query.get("filter") ?? "", agentServiceCfg);
  const all = [...ctx.store.services.values()];
  const visible = all.filter((s) => authz.serviceRead(s.name));
  const out = sortKeys(
    Object.fromEntries(visible.map((s) => [s.id, agentServiceView(s, ctx.identity.datacenter)] as const).filter(([, v]) => filter(v))),
  );
  return { json: out, headers: filteredHeader(ctx, visible.length !== all.length) };
}

const contentHash = (view: unknown) => createHash("sha256").update(JSON.stringify(view)).digest("hex").slice(0, 16);

async function service(ctx: Ctx) {
  const { waitNs } = parseWait(ctx.query);
  rejectEnterpriseInputs(ctx.query, ctx.headers);
  ctx.authz();
  const read = () => {
    const svc = ctx.store.services.get(ctx.id);
    if (!svc) throw new HttpError(404, `unknown service ID: ${ctx.id}`);
    const authz = ctx.authz();
    if (!authz.serviceRead(svc.name)) throw authz.denied("service", "read", svc.name);
    return { svc, hash: contentHash(agentServiceView(svc, ctx.identity.datacenter)) };
  };
  const hash = ctx.query.get("hash") ?? "";
  let current = read();
  if (hash !== "" && current.hash === hash) {
    const changed = () => {
      try {
        return read().hash !== hash;
      } catch {
        return true;
      }
    };
    await Promise.race([ctx.store.waitFor(changed, blockingWaitMs(waitNs)), ctx.closed]);
    current = read();
  }
  const view = agentServiceView(current.svc, ctx.identity.datacenter, current.hash);
  return { json: view, headers: { "X-Consul-ContentHash": current.hash } };
}

function register(ctx: Ctx) {
  rejectEnterpriseInputs(ctx.query, ctx.headers);
  const body = decodeOr400(ctx.body, serviceDefinitionSchema) as ServiceBody;
  checkNameAndAddress(body);
  const authz = ctx.authz();
  const checkBodies = validateService(body);
  validateSidecarChecks(body);
  const name = body.Name ?? "";
  const existing = ctx.store.services.get(body.ID || name);
  const destName = (body.Proxy as { DestinationServiceName?: unknown } | undefined)?.DestinationServiceName ?? "";
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- the double does not type-check Proxy (schema any), so a non-string name is coerced as before; Consul would refuse it at decode (not modelled)
  const dest = body.Kind === "connect-proxy" ? String(destName) : undefined;
  for (const n of [name, existing?.name, dest]) {
    if (n !== undefined && !authz.serviceWrite(n)) throw authz.denied("service", "write", n);
  }
  const sidecar = planSidecar(ctx, body);
  const tagged = taggedAddressesFor(body);
  const svc = toStoredService(body, tagged);
  const fresh = serviceChecks(checkBodies, svc);
  const firstScript = ctx.enableScriptChecks ? -1 : checkBodies.findIndex((c) => (c.ScriptArgs?.length ?? 0) > 0);
  if (firstScript >= 0) {
    // agent.go addServiceInternal: the definition and every check are put in local state first, then
    // each check is started in order and the first script check is refused; cleanupRegistration then
    // removes only what was not there before. So a new service leaves nothing, but a re-registered one
    // keeps its new definition, and its checks that already existed keep their new records (those
    // after the refused one keep their old runners); no replace-existing-checks happens.
    const refused = new Error("Scripts are disabled on this agent from remote calls; to enable, configure 'enable_script_checks' to true");
    if (!existing) throw refused;
    const known = new Set(fresh.filter((c) => ctx.store.checks.has(c.id)).map((c) => c.id));
    ctx.store.registerService(svc, fresh, false, (i) => i < firstScript);
    for (const c of fresh) if (!known.has(c.id)) ctx.store.removeCheck(c.id);
    throw refused;
  }
  const raw = ctx.query.get("replace-existing-checks");
  const replace = ctx.query.has("replace-existing-checks") && (raw === "" || raw === "true");
  ctx.store.registerService(svc, fresh, replace);
  sidecar?.register(replace);
  return undefined;
}

function deregister(ctx: Ctx) {
  rejectEnterpriseInputs(ctx.query, ctx.headers);
  vetServiceUpdate(ctx, ctx.id);
  ctx.store.removeService(ctx.id);
  return undefined;
}

function maintenance(ctx: Ctx) {
  if (ctx.id === "") throw new HttpError(400, "Missing service ID");
  if (!ctx.query.has("enable")) throw new HttpError(400, "Missing value for enable");
  const raw = ctx.query.get("enable") ?? "";
  const enable = parseGoBool(raw);
  if (enable === undefined) throw new HttpError(400, `Invalid value for enable: ${goQuote(raw)}`);
  rejectEnterpriseInputs(ctx.query, ctx.headers);
  vetServiceUpdate(ctx, ctx.id);
  const checkId = `_service_maintenance:${ctx.id}`;
  if (!enable) {
    ctx.store.removeCheck(checkId);
  } else if (!ctx.store.checks.has(checkId)) {
    const reason =
      ctx.query.get("reason") || "Maintenance mode is enabled for this service, but no reason was provided. This is a default message.";
    ctx.store.addCheck({
      id: checkId,
      name: "Service Maintenance Mode",
      status: "critical",
      notes: reason,
      output: "",
      serviceId: ctx.id,
      type: "",
      interval: "",
      timeout: "",
      ttlNs: 0,
      intervalNs: 0,
      timeoutNs: 0,
      outputMaxSize: 4096,
      deregisterAfterNs: 0,
      probe: {},
      synced: { status: "critical", output: "" },
      criticalSince: undefined,
      createIndex: 0,
      modifyIndex: 0,
    });
  }
  return undefined;
}

export const agentRoutes: Route[] = [
  { pattern: "/v1/agent/self", methods: ["GET"], handler: self },
  { pattern: "/v1/agent/services", methods: ["GET"], handler: services },
  { pattern: "/v1/agent/service/", methods: ["GET"], handler: service },
  { pattern: "/v1/agent/service/register", methods: ["PUT"], handler: register },
  { pattern: "/v1/agent/service/deregister/", methods: ["PUT"], handler: deregister },
  { pattern: "/v1/agent/service/maintenance/", methods: ["PUT"], handler: maintenance },
];
