// The HTTP side of the double: Go ServeMux routing (exact beats prefix, path cleaning
// redirects), Consul's wrap (headers, OPTIONS, 405, error mapping), gzip, request log.
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { posix } from "node:path";
import { gzipSync } from "node:zlib";
import { tokenFrom } from "./acl.ts";
import { makeAuthz, type Route } from "./context.ts";
import { goJson, HttpError, queryIsValid, type Reply } from "./http.ts";
import { agentRoutes } from "./routes-agent.ts";
import { catalogRoutes } from "./routes-catalog.ts";
import { checkRoutes } from "./routes-checks.ts";
import { createStore } from "./state.ts";
import { probeOrigin } from "./probes.ts";
import { createCheckRunner } from "./ttl.ts";
import type { AgentCheck, AgentService, ConsulDouble, ConsulDoubleOptions, RequestRecord } from "./types.ts";
import { agentServiceView, checkView } from "./views.ts";

const ROUTES: Route[] = [...agentRoutes, ...checkRoutes, ...catalogRoutes];
const GZIP_MIN = 1400;
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]|(?! )\p{Zs}/u;

const canonical = (h: string) => h.toLowerCase().replace(/(^|-)([a-z])/g, (_, d: string, c: string) => d + c.toUpperCase());

function match(path: string): { route: Route; id: string } | undefined {
  const exact = ROUTES.find((r) => r.pattern === path);
  if (exact) return { route: exact, id: "" };
  const prefix = ROUTES.filter((r) => r.pattern.endsWith("/") && path.startsWith(r.pattern)).sort(
    (a, b) => b.pattern.length - a.pattern.length,
  )[0];
  return prefix ? { route: prefix, id: path.slice(prefix.pattern.length) } : undefined;
}

function send(req: IncomingMessage, res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  let payload: Buffer = Buffer.from(body, "utf8");
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[canonical(k)] = v;
  if (payload.length > 0 && out["Content-Type"] === undefined) out["Content-Type"] = "text/plain; charset=utf-8";
  if (out.Vary !== undefined && payload.length >= GZIP_MIN && /\bgzip\b/.test(req.headers["accept-encoding"] ?? "")) {
    payload = gzipSync(payload);
    out["Content-Encoding"] = "gzip";
  }
  out["Content-Length"] = String(payload.length);
  res.writeHead(status, out);
  res.end(req.method === "HEAD" ? undefined : payload);
}

/** Consul's handleErr mapping: substring ACL texts → 403, typed errors → their status, else 500. */
function errorReply(err: unknown): { status: number; text: string; headers: Record<string, string> } {
  const text = err instanceof Error ? err.message : String(err);
  if (text.includes("Permission denied") || text.includes("ACL not found")) return { status: 403, text, headers: {} };
  if (err instanceof HttpError) return { status: err.status, text, headers: err.headers };
  return { status: 500, text, headers: {} };
}

export async function startConsulDouble(opts: ConsulDoubleOptions = {}): Promise<ConsulDouble> {
  const identity = {
    node: opts.node ?? "node1",
    nodeId: randomUUID(),
    address: opts.address ?? "127.0.0.1",
    datacenter: opts.datacenter ?? "dc1",
  };
  const store = createStore(identity);
  let ownPort = 0;
  const origin = probeOrigin(opts, () => ownPort);
  const runner = createCheckRunner(store, origin);
  store.setHooks({ checkAdded: (c) => runner.checkAdded(c), checkRemoved: runner.checkRemoved });
  const requests: RequestRecord[] = [];
  let releaseAll: () => void = () => {};
  const closing = new Promise<void>((resolve) => (releaseAll = resolve));
  const aclPolicy = opts.acl?.defaultPolicy ?? "allow";

  const handle = async (req: IncomingMessage, res: ServerResponse, body: Buffer, record: RequestRecord) => {
    const rawUrl = req.url ?? "/";
    const q = rawUrl.indexOf("?");
    const rawPath = q >= 0 ? rawUrl.slice(0, q) : rawUrl;
    const rawQuery = q >= 0 ? rawUrl.slice(q + 1) : "";
    let path: string;
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      send(req, res, 400, { Connection: "close" }, "400 Bad Request");
      return;
    }
    if (UNPRINTABLE.test(path)) {
      send(req, res, 400, {}, "");
      return;
    }
    const clean = path === "" ? "/" : posix.normalize(path);
    if (clean !== path) {
      const location = encodeURI(clean) + (rawQuery ? `?${rawQuery}` : "");
      const html = req.method === "GET" ? `<a href="${location}">Moved Permanently</a>.\n\n` : "";
      send(req, res, 301, { Location: location, ...(html ? { "Content-Type": "text/html; charset=utf-8" } : {}) }, html);
      return;
    }
    const found = match(path);
    if (!found) {
      if (ROUTES.some((r) => r.pattern === `${path}/`)) {
        send(req, res, 301, { Location: `${rawPath}/` }, "");
        return;
      }
      if (path === "/") {
        send(req, res, 200, {}, "Consul Agent: UI disabled. To enable, set ui_config.enabled=true in the agent configuration and restart.");
        return;
      }
      const hint = path.includes("/v1/")
        ? "not a recognized HTTP API endpoint"
        : "if attempting to use the HTTP API, ensure the path starts with '/v1/'";
      send(req, res, 404, {}, `Invalid URL path: ${hint}\n`);
      return;
    }
    const common = { "X-Consul-Default-Acl-Policy": aclPolicy, Vary: "Accept-Encoding" };
    if (!queryIsValid(rawQuery)) {
      send(req, res, 500, common, "");
      return;
    }
    const { route, id } = found;
    const query = new URLSearchParams(rawQuery);
    if (req.method === "OPTIONS") {
      send(req, res, 200, { ...common, Allow: ["OPTIONS", ...route.methods].join(",") }, "");
      return;
    }
    if (!route.methods.includes(req.method ?? "")) {
      send(req, res, 405, { ...common, Allow: ["OPTIONS", ...route.methods].join(",") }, `method ${req.method} not allowed`);
      return;
    }
    const token = tokenFrom(query, req.headers);
    if (token !== "") record.token = token;
    const clientGone = new Promise<void>((resolve) => res.once("close", () => resolve()));
    let reply: Reply;
    try {
      reply = await route.handler({
        method: req.method ?? "GET",
        id,
        query,
        headers: req.headers,
        body,
        token,
        identity,
        store,
        runner,
        acl: opts.acl,
        enableScriptChecks: opts.enableScriptChecks === true,
        authz: makeAuthz(opts.acl, token),
        closed: Promise.race([clientGone, closing]),
      });
    } catch (err) {
      const e = errorReply(err);
      send(req, res, e.status, { ...common, ...e.headers }, e.text);
      return;
    }
    const headers = { ...common, ...(reply?.headers ?? {}) };
    if (reply?.json !== undefined) {
      const pretty = query.has("pretty");
      send(req, res, reply.status ?? 200, { ...headers, "Content-Type": "application/json" }, goJson(reply.json, pretty));
      return;
    }
    if (reply?.text !== undefined) {
      send(req, res, reply.status ?? 200, { ...headers, "Content-Type": "text/plain" }, reply.text);
      return;
    }
    send(req, res, reply?.status ?? 200, headers, "");
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const rawUrl = req.url ?? "/";
    const q = rawUrl.indexOf("?");
    const record: RequestRecord = {
      method: req.method ?? "",
      path: q >= 0 ? rawUrl.slice(0, q) : rawUrl,
      query: q >= 0 ? rawUrl.slice(q + 1) : "",
      status: 0,
    };
    requests.push(record);
    res.once("finish", () => (record.status = res.statusCode));
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      if (body.length > 0) record.body = body.toString("utf8");
      handle(req, res, body, record).catch((err: unknown) => {
        if (!res.headersSent) send(req, res, 500, {}, err instanceof Error ? err.message : String(err));
      });
    });
  };
  // HTTPS like an agent with `ports.https` and `verify_incoming_https`: a client without a
  // certificate signed by `ca` is refused in the handshake (each refusal is kept in tlsClientErrors).
  const tls = opts.tls;
  const tlsClientErrors: string[] = [];
  const server = tls
    ? createHttpsServer(
        {
          cert: tls.cert,
          key: tls.key,
          ...(tls.ca ? { ca: tls.ca } : {}),
          requestCert: tls.requireClientCert === true,
          rejectUnauthorized: tls.requireClientCert === true,
        },
        onRequest,
      )
    : createServer(onRequest);
  server.on("tlsClientError", (err: Error) => tlsClientErrors.push(err.message));

  const listen = opts.listen ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, listen, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  ownPort = port;

  return {
    url: `${tls ? "https" : "http"}://${listen}:${port}`,
    node: identity.node,
    requests,
    tlsClientErrors,
    services(): Record<string, AgentService> {
      return Object.fromEntries([...store.services.values()].map((s) => [s.id, agentServiceView(s, identity.datacenter)]));
    },
    checks(): Record<string, AgentCheck> {
      return Object.fromEntries([...store.checks.values()].map((c) => [c.id, checkView(c, identity, store.services, false)]));
    },
    async close(): Promise<void> {
      releaseAll();
      store.shutdown();
      runner.stopAll();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
