// Catalog and health endpoints for the agent's own node, with blocking queries
// (?index=&wait=) on a per-service-name index.
import { filteredHeader, sortKeys, type Ctx, type Route } from "./context.ts";
import { checkServiceNodeCfg, serviceNodeCfg, healthCheckCfg } from "./filter-eval.ts";
import { blockingWaitMs, HttpError, parseConsistency, parseGoBool, parseWait, rejectEnterpriseInputs } from "./http.ts";
import { compileOr500 } from "./routes-agent.ts";
import { BOOT_INDEX } from "./state.ts";
import type { AgentCheck, StoredService } from "./types.ts";
import { catalogServiceView, checkView, healthNodeView, healthServiceView, nodeMeta, serfHealthView, serverService } from "./views.ts";

const byId = (a: string, b: string) => (a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0);

/** Every service in the catalog for this node: the agent's plus the server's `consul`. */
function catalogServices(ctx: Ctx): StoredService[] {
  return [serverService(), ...ctx.store.services.values()].sort((a, b) => byId(a.id, b.id));
}

/** s.parse: CE inputs, consistency, wait/index; then the RPC's dc, token and blocking. */
async function query<T>(ctx: Ctx, index: () => number, run: () => { body: T; dropped: boolean }) {
  rejectEnterpriseInputs(ctx.query, ctx.headers);
  const consistency = parseConsistency(ctx.query);
  const { waitNs, minIndex } = parseWait(ctx.query);
  const dc = ctx.query.get("dc");
  if (dc && dc !== ctx.identity.datacenter) throw new Error("No path to datacenter");
  ctx.authz();
  run();
  if (minIndex > 0 && index() <= minIndex) {
    await Promise.race([ctx.store.waitFor(() => index() > minIndex, blockingWaitMs(waitNs)), ctx.closed]);
  }
  const { body, dropped } = run();
  const headers = {
    "X-Consul-Effective-Consistency": consistency,
    "X-Consul-Index": String(Math.max(1, index())),
    "X-Consul-Knownleader": "true",
    "X-Consul-Lastcontact": "0",
    "X-Consul-Query-Backend": "blocking-query",
    ...filteredHeader(ctx, dropped),
    ...(ctx.query.has("cached") ? { "X-Cache": "MISS" } : {}),
  };
  return { json: body, headers };
}

function instances(ctx: Ctx, name: string) {
  if (name === "") throw new HttpError(400, "Missing service name");
  const authz = ctx.authz();
  const tags = ctx.query.getAll("tag").map((t) => t.toLowerCase());
  const meta: Record<string, string> = nodeMeta();
  const metaOk = ctx.query.getAll("node-meta").every((kv) => {
    const at = kv.indexOf(":");
    return at >= 0 ? meta[kv.slice(0, at)] === kv.slice(at + 1) : meta[kv] !== undefined;
  });
  const all = catalogServices(ctx).filter((s) => s.name === name && metaOk && tags.every((t) => s.tags.some((x) => x.toLowerCase() === t)));
  const visible = authz.serviceRead(name) ? all : [];
  return { list: visible, dropped: visible.length !== all.length };
}

function checksFor(ctx: Ctx, svc: StoredService | undefined): AgentCheck[] {
  const own = [...ctx.store.checks.values()].filter((c) => c.serviceId === "" || (svc !== undefined && c.serviceId === svc.id));
  const views = own.map((c) => checkView(c, ctx.identity, ctx.store.services, true));
  return [serfHealthView(ctx.identity), ...views].sort((a, b) => byId(a.CheckID, b.CheckID));
}

function catalogService(ctx: Ctx) {
  return query(
    ctx,
    () => ctx.store.nameIndex(ctx.id),
    () => {
      const filter = compileOr500(ctx.query.get("filter") ?? "", serviceNodeCfg);
      const { list, dropped } = instances(ctx, ctx.id);
      return { body: list.map((s) => catalogServiceView(s, ctx.identity)).filter(filter), dropped };
    },
  );
}

function catalogServicesList(ctx: Ctx) {
  return query(
    ctx,
    () => ctx.store.servicesIndex(),
    () => {
      const filter = compileOr500(ctx.query.get("filter") ?? "", serviceNodeCfg);
      const authz = ctx.authz();
      const all = catalogServices(ctx);
      const visible = all.filter((s) => authz.serviceRead(s.name) && filter(catalogServiceView(s, ctx.identity)));
      const out: Record<string, string[]> = {};
      for (const s of visible) out[s.name] = [...new Set([...(out[s.name] ?? []), ...s.tags])];
      return { body: sortKeys(out), dropped: all.some((s) => !authz.serviceRead(s.name)) };
    },
  );
}

async function healthService(ctx: Ctx) {
  const reply = await query(
    ctx,
    () => ctx.store.nameIndex(ctx.id),
    () => {
      const filter = compileOr500(ctx.query.get("filter") ?? "", checkServiceNodeCfg);
      const { list, dropped } = instances(ctx, ctx.id);
      const entries = list.map((s) => ({ Node: healthNodeView(ctx.identity), Service: healthServiceView(s), Checks: checksFor(ctx, s) }));
      return { body: entries.filter(filter), dropped };
    },
  );
  if (ctx.query.has("passing")) {
    const raw = ctx.query.get("passing") ?? "";
    const passing = raw === "" ? true : parseGoBool(raw);
    if (passing === undefined) throw new HttpError(400, "Invalid value for ?passing");
    if (passing) reply.json = filterNonPassing(reply.json);
  }
  return reply;
}

/** filterNonPassing: removed entries are swapped to the end, which reorders the rest. */
function filterNonPassing<T extends { Checks: AgentCheck[] }>(nodes: T[]): T[] {
  const out = [...nodes];
  let n = out.length;
  for (let i = 0; i < n; i++) {
    if ((out[i] as T).Checks.some((c) => c.Status !== "passing")) {
      out[i] = out[n - 1] as T;
      n--;
      i--;
    }
  }
  return out.slice(0, n);
}

function healthChecks(ctx: Ctx) {
  return query(
    ctx,
    () => ctx.store.nameIndex(ctx.id),
    () => {
      const filter = compileOr500(ctx.query.get("filter") ?? "", healthCheckCfg);
      const { list, dropped } = instances(ctx, ctx.id);
      const ids = new Set(list.map((s) => s.id));
      const checks = [...ctx.store.checks.values()].filter((c) => ids.has(c.serviceId));
      const views = checks.map((c) => checkView(c, ctx.identity, ctx.store.services, true)).sort((a, b) => byId(a.CheckID, b.CheckID));
      return { body: views.filter(filter), dropped };
    },
  );
}

function healthState(ctx: Ctx) {
  if (!["any", "passing", "warning", "critical"].includes(ctx.id)) throw new HttpError(400, "Bad state");
  return query(
    ctx,
    () => ctx.store.index(),
    () => {
      const filter = compileOr500(ctx.query.get("filter") ?? "", healthCheckCfg);
      const all = [
        serfHealthView(ctx.identity),
        ...[...ctx.store.checks.values()].map((c) => checkView(c, ctx.identity, ctx.store.services, true)),
      ];
      const body = all.filter((c) => ctx.id === "any" || c.Status === ctx.id).sort((a, b) => byId(a.CheckID, b.CheckID));
      return { body: body.filter(filter), dropped: false };
    },
  );
}

function nodeScoped<T>(ctx: Ctx, body: () => T, empty: T) {
  return query(
    ctx,
    () => ctx.store.index(),
    () => ({ body: ctx.id === ctx.identity.node ? body() : empty, dropped: false }),
  );
}

export const catalogRoutes: Route[] = [
  { pattern: "/v1/catalog/services", methods: ["GET"], handler: catalogServicesList },
  { pattern: "/v1/catalog/service/", methods: ["GET"], handler: catalogService },
  {
    pattern: "/v1/catalog/nodes",
    methods: ["GET"],
    handler: (ctx) =>
      query(
        ctx,
        () => BOOT_INDEX,
        () => ({ body: [healthNodeView(ctx.identity)], dropped: false }),
      ),
  },
  {
    pattern: "/v1/catalog/node/",
    methods: ["GET"],
    handler: (ctx) =>
      nodeScoped<unknown>(
        ctx,
        () => ({
          Node: healthNodeView(ctx.identity),
          Services: sortKeys(Object.fromEntries(catalogServices(ctx).map((s) => [s.id, healthServiceView(s)]))),
        }),
        null,
      ),
  },
  { pattern: "/v1/health/service/", methods: ["GET"], handler: healthService },
  { pattern: "/v1/health/checks/", methods: ["GET"], handler: healthChecks },
  {
    pattern: "/v1/health/node/",
    methods: ["GET"],
    handler: (ctx) =>
      nodeScoped(
        ctx,
        () =>
          checksFor(ctx, undefined)
            .concat(
              [...ctx.store.checks.values()]
                .filter((c) => c.serviceId !== "")
                .map((c) => checkView(c, ctx.identity, ctx.store.services, true)),
            )
            .sort((a, b) => byId(a.CheckID, b.CheckID)),
        [],
      ),
  },
  { pattern: "/v1/health/state/", methods: ["GET"], handler: healthState },
];
