// Agent check endpoints: checks, pass/warn/fail/update, check register/deregister, and the
// agent-local health endpoints (/v1/agent/health/service/id|name/).
import { checkDefinitionSchema, checkUpdateSchema, type CheckDefinitionBody } from "./bodies.ts";
import { decodeOr400, filteredHeader, sortKeys, type Ctx, type Route } from "./context.ts";
import { healthCheckCfg } from "./filter-eval.ts";
import { goQuote, HttpError, rejectEnterpriseInputs, type Reply } from "./http.ts";
import { toStoredCheck, validateCheck } from "./register.ts";
import { compileOr500 } from "./routes-agent.ts";
import type { StoredCheck } from "./types.ts";
import { agentServiceView, checkView } from "./views.ts";

const STATUSES = ["passing", "warning", "critical"];

function checks(ctx: Ctx) {
  rejectEnterpriseInputs(ctx.query, ctx.headers);
  const authz = ctx.authz();
  const filter = compileOr500(ctx.query.get("filter") ?? "", healthCheckCfg);
  const { store, identity } = ctx;
  const all = [...store.checks.values()];
  const visible = all.filter((c) => !c.serviceId || authz.serviceRead(store.services.get(c.serviceId)?.name ?? ""));
  const views = visible.map((c) => [c.id, checkView(c, identity, store.services, false)] as const).filter(([, v]) => filter(v));
  return { json: sortKeys(Object.fromEntries(views)), headers: filteredHeader(ctx, visible.length !== all.length) };
}

/** vetCheckUpdate: 404 for an unknown check, then service:write (or node:write). */
function vetCheckUpdate(ctx: Ctx, id: string): StoredCheck {
  const authz = ctx.authz();
  const check = ctx.store.checks.get(id);
  if (!check) throw new HttpError(404, `Unknown check ID ${goQuote(id)}. Ensure that the check ID is passed, not the check name.`);
  const svcName = ctx.store.services.get(check.serviceId)?.name ?? "";
  if (svcName !== "" && !authz.serviceWrite(svcName)) throw authz.denied("service", "write", svcName);
  if (svcName === "" && !authz.nodeWrite()) throw authz.denied("node", "write", ctx.identity.node);
  return check;
}

function ttlUpdate(ctx: Ctx, status: string, output: string): Reply {
  rejectEnterpriseInputs(ctx.query, ctx.headers);
  vetCheckUpdate(ctx, ctx.id);
  if (!ctx.runner.isTtl(ctx.id)) throw new Error(`CheckID ${goQuote(ctx.id)} does not have associated TTL`);
  ctx.runner.ttlUpdate(ctx.id, status, output);
  return undefined;
}

const byNote = (status: string) => (ctx: Ctx) => ttlUpdate(ctx, status, ctx.query.get("note") ?? "");

function update(ctx: Ctx) {
  const body = decodeOr400(ctx.body, checkUpdateSchema) as { Status?: string; Output?: string };
  const status = body.Status ?? "";
  if (!STATUSES.includes(status)) throw new HttpError(400, `Invalid check status: '${status}'`);
  return ttlUpdate(ctx, status, body.Output ?? "");
}

function registerCheck(ctx: Ctx) {
  rejectEnterpriseInputs(ctx.query, ctx.headers);
  const body = decodeOr400(ctx.body, checkDefinitionSchema) as CheckDefinitionBody;
  if (!body.Name) throw new HttpError(400, "Missing check name");
  if (body.Status && !STATUSES.includes(body.Status)) throw new HttpError(400, "Bad check status");
  const authz = ctx.authz();
  try {
    validateCheck(body);
  } catch (err) {
    throw new HttpError(400, `Invalid check: ${(err as Error).message}`);
  }
  const serviceId = body.ServiceID ?? "";
  const svc = serviceId ? ctx.store.services.get(serviceId) : undefined;
  if (serviceId && !svc) throw new HttpError(404, `ServiceID ${goQuote(serviceId)} does not exist`);
  if (svc && !authz.serviceWrite(svc.name)) throw authz.denied("service", "write", svc.name);
  if (!svc && !authz.nodeWrite()) throw authz.denied("node", "write", ctx.identity.node);
  if ((body.ScriptArgs?.length ?? 0) > 0) {
    throw new Error("Scripts are disabled on this agent from remote calls; to enable, configure 'enable_script_checks' to true");
  }
  ctx.store.addCheck(toStoredCheck(body, body.ID || body.Name, body.Name, serviceId, "0s"));
  return undefined;
}

function deregisterCheck(ctx: Ctx) {
  rejectEnterpriseInputs(ctx.query, ctx.headers);
  vetCheckUpdate(ctx, ctx.id);
  ctx.store.removeCheck(ctx.id);
  return undefined;
}

const wantsText = (ctx: Ctx) => {
  const accept = ctx.headers.accept;
  if (typeof accept === "string" && accept.startsWith("text/plain")) return true;
  return ctx.query.get("format") === "text";
};

/** agentHealthService: node checks + the service's checks, maintenance > critical > warning. */
function aggregate(ctx: Ctx, serviceId: string) {
  const list = [...ctx.store.checks.values()].filter((c) => c.serviceId === "" || c.serviceId === serviceId);
  const maint = list.some((c) => c.id === "_node_maintenance" || c.id.startsWith("_service_maintenance:"));
  const has = (s: string) => list.some((c) => c.status === s && !c.id.startsWith("_"));
  const status = maint ? "maintenance" : has("critical") ? "critical" : has("warning") ? "warning" : "passing";
  const code = status === "passing" ? 200 : status === "warning" ? 429 : 503;
  const checks = list.map((c) => {
    const v = checkView(c, ctx.identity, ctx.store.services, false);
    const { Node, CheckID, Name, Status, Notes, Output, ServiceID, ServiceName, ServiceTags } = v;
    return {
      Node,
      CheckID,
      Name,
      Status,
      Notes,
      Output,
      ServiceID,
      ServiceName,
      ServiceTags,
      Type: "",
      ExposedPort: 0,
      Definition: {
        Interval: "0s",
        Timeout: "0s",
        DeregisterCriticalServiceAfter: "0s",
        HTTP: "",
        Header: null,
        Method: "",
        Body: "",
        TLSServerName: "",
        TLSSkipVerify: false,
        TCP: "",
        TCPUseTLS: false,
        UDP: "",
        GRPC: "",
        OSService: "",
        GRPCUseTLS: false,
      },
      CreateIndex: 0,
      ModifyIndex: 0,
    };
  });
  return { code, status, checks };
}

function healthById(ctx: Ctx) {
  if (ctx.id === "") throw new HttpError(400, "Missing serviceID");
  rejectEnterpriseInputs(ctx.query, ctx.headers);
  const authz = ctx.authz();
  const svc = ctx.store.services.get(ctx.id);
  if (!svc) {
    const reason = `ServiceId ${ctx.id} not found`;
    const headers = { "X-Consul-Reason": reason };
    if (wantsText(ctx)) return { status: 404, text: reason, headers };
    return { status: 404, json: { AggregatedStatus: "critical", Service: null, Checks: null }, headers };
  }
  if (!authz.serviceRead(svc.name)) throw authz.denied("service", "read", svc.name);
  const { code, status, checks } = aggregate(ctx, svc.id);
  const headers = { "X-Consul-Reason": status };
  if (wantsText(ctx)) return { status: code, text: status, headers };
  return {
    status: code,
    json: { AggregatedStatus: status, Service: agentServiceView(svc, ctx.identity.datacenter), Checks: checks },
    headers,
  };
}

function healthByName(ctx: Ctx) {
  if (ctx.id === "") throw new HttpError(400, "Missing service Name");
  rejectEnterpriseInputs(ctx.query, ctx.headers);
  const authz = ctx.authz();
  if (!authz.serviceRead(ctx.id)) throw authz.denied("service", "read", ctx.id);
  let code = 404;
  let status = `ServiceName ${ctx.id} Not Found`;
  const result = [...ctx.store.services.values()]
    .filter((s) => s.name === ctx.id)
    .map((svc) => {
      const agg = aggregate(ctx, svc.id);
      if (code === 404 || code < agg.code) [code, status] = [agg.code, agg.status];
      return { AggregatedStatus: agg.status, Service: agentServiceView(svc, ctx.identity.datacenter), Checks: agg.checks };
    });
  const headers = { "X-Consul-Reason": status };
  return wantsText(ctx) ? { status: code, text: status, headers } : { status: code, json: result, headers };
}

export const checkRoutes: Route[] = [
  { pattern: "/v1/agent/checks", methods: ["GET"], handler: checks },
  { pattern: "/v1/agent/check/register", methods: ["PUT"], handler: registerCheck },
  { pattern: "/v1/agent/check/deregister/", methods: ["PUT"], handler: deregisterCheck },
  { pattern: "/v1/agent/check/pass/", methods: ["PUT"], handler: byNote("passing") },
  { pattern: "/v1/agent/check/warn/", methods: ["PUT"], handler: byNote("warning") },
  { pattern: "/v1/agent/check/fail/", methods: ["PUT"], handler: byNote("critical") },
  { pattern: "/v1/agent/check/update/", methods: ["PUT"], handler: update },
  { pattern: "/v1/agent/health/service/id/", methods: ["GET"], handler: healthById },
  { pattern: "/v1/agent/health/service/name/", methods: ["GET"], handler: healthByName },
];
