// A minimal Consul agent stand-in for the benchmark, NOT the agent double of the tests.
//
// It answers only the calls berth's handler makes, the way Consul answers them:
//   PUT /v1/agent/service/register           200, empty body (400 on a body without ID/Name)
//   PUT /v1/agent/service/deregister/<id>    200, or 404 `Unknown service ID "<id>"…`
//   GET /v1/agent/services?filter=<expr>     200, {ID: AgentService}; expr: `Meta.<k> == "<v>"` joined by ` and `
// Services live in a Map, indexed by berth's ownership Meta (node, container), so a container's
// lookup costs O(1) however many services the agent holds. Why not test/consul-double: it
// validates every field and evaluates go-bexpr in full, which costs more than berth itself at
// thousands of calls per second; here the agent must not be what is measured. It records when
// each registration and deregistration was stored (performance.now() of this process), keyed by
// the service's `berth_container` Meta, and counts calls by kind.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
// Types only: the import is erased, so no agent client is loaded here.
import type { AgentService as StoredService, ServiceRegistration } from "../consul/client.ts";
import { OWNER_META } from "../mapping/meta.ts";
import { registerCleanup } from "../test/harness/cleanup.ts";

export type { StoredService };

type Registration = Partial<ServiceRegistration>;

/** The registration that stores `s` again as it is (a register body, in Consul's field names). */
export function registrationOf(s: StoredService): ServiceRegistration {
  return { ID: s.ID, Name: s.Service, Tags: s.Tags, Meta: s.Meta, Port: s.Port, Address: s.Address };
}

export type FastAgent = {
  url: string;
  /** Container id (Meta berth_container) → time its first registration was stored. */
  registeredAt: Map<string, number>;
  /** Container id → time its last service was removed. */
  goneAt: Map<string, number>;
  calls: { register: number; deregister: number; services: number };
  /** When a service was last stored or removed. */
  lastChangeAt(): number;
  /** Removes a service as if the agent had lost it (no call is counted). */
  forget(serviceId: string): boolean;
  /** Puts a service back as it was (no call is counted), e.g. to make the same drift again. */
  restore(service: StoredService): void;
  /** Forgets timings and call counts (services stay). */
  resetRecords(): void;
  /** Services owned by berth on `node` (Meta berth_node), e.g. for seeding or counting. */
  ownedBy(node: string): StoredService[];
  close(): Promise<void>;
};

const NODE_KEY = OWNER_META.node;
const CONTAINER_KEY = OWNER_META.container;
const CLAUSE = /^Meta\.([A-Za-z0-9_-]+) == "([^"\\]*)"$/;

function parseFilter(filter: string): [string, string][] | undefined {
  if (filter === "") return [];
  const clauses: [string, string][] = [];
  for (const part of filter.split(" and ")) {
    const m = CLAUSE.exec(part.trim());
    if (!m) return undefined;
    clauses.push([m[1]!, m[2]!]);
  }
  return clauses;
}

function reply(res: ServerResponse, status: number, body = ""): void {
  res.writeHead(status, {
    "content-type": status === 200 && body !== "" ? "application/json" : "text/plain; charset=utf-8",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<string> {
  let text = "";
  req.setEncoding("utf8");
  for await (const chunk of req) text += chunk as string;
  return text;
}

export async function startFastAgent(): Promise<FastAgent> {
  const services = new Map<string, StoredService>();
  const byContainer = new Map<string, Set<string>>();
  // It stands in for one agent per node: listing a node's services looks at that node's only, as its own agent would.
  const byNode = new Map<string, Set<string>>();
  const registeredAt = new Map<string, number>();
  const goneAt = new Map<string, number>();
  const calls = { register: 0, deregister: 0, services: 0 };
  let lastChange = 0;
  const ownerKey = (meta: Record<string, string>) => `${meta[NODE_KEY] ?? ""}\0${meta[CONTAINER_KEY] ?? ""}`;

  function store(reg: Registration): boolean {
    if (!reg.ID || !reg.Name) return false;
    const old = services.get(reg.ID);
    if (old) unindex(old); // replaced, as Consul does: its container does not count as gone meanwhile
    lastChange = performance.now();
    const meta = reg.Meta ?? {};
    services.set(reg.ID, {
      ID: reg.ID,
      Service: reg.Name,
      Tags: reg.Tags ?? [],
      Meta: meta,
      Port: reg.Port ?? 0,
      Address: reg.Address ?? "",
    });
    const key = ownerKey(meta);
    let ids = byContainer.get(key);
    if (!ids) byContainer.set(key, (ids = new Set()));
    ids.add(reg.ID);
    const node = meta[NODE_KEY] ?? "";
    let onNode = byNode.get(node);
    if (!onNode) byNode.set(node, (onNode = new Set()));
    onNode.add(reg.ID);
    const container = meta[CONTAINER_KEY];
    if (container !== undefined && !registeredAt.has(container)) registeredAt.set(container, performance.now());
    return true;
  }

  /** Drops a service from the container index; true when its container has no service left. */
  function unindex(old: StoredService): boolean {
    byNode.get(old.Meta[NODE_KEY] ?? "")?.delete(old.ID);
    const key = ownerKey(old.Meta);
    const ids = byContainer.get(key);
    ids?.delete(old.ID);
    if (ids?.size !== 0) return false;
    byContainer.delete(key);
    return true;
  }

  function remove(id: string): boolean {
    const old = services.get(id);
    if (!old) return false;
    services.delete(id);
    lastChange = performance.now();
    const container = old.Meta[CONTAINER_KEY];
    if (unindex(old) && container !== undefined) goneAt.set(container, performance.now());
    return true;
  }

  function list(clauses: [string, string][]): Record<string, StoredService> {
    const out: Record<string, StoredService> = {};
    const node = clauses.find(([k]) => k === NODE_KEY)?.[1];
    const container = clauses.find(([k]) => k === CONTAINER_KEY)?.[1];
    const candidates =
      node === undefined
        ? services.keys()
        : container === undefined
          ? [...(byNode.get(node) ?? [])]
          : [...(byContainer.get(`${node}\0${container}`) ?? [])];
    for (const id of candidates) {
      const s = services.get(id);
      if (s && clauses.every(([k, v]) => s.Meta[k] === v)) out[id] = s;
    }
    return out;
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://agent");
    if (req.method === "PUT" && url.pathname === "/v1/agent/service/register") {
      calls.register++;
      let reg: Registration;
      try {
        reg = JSON.parse(await readBody(req)) as Registration;
      } catch (err) {
        reply(res, 400, `Request decode failed: ${(err as Error).message}`);
        return;
      }
      if (store(reg)) reply(res, 200);
      else reply(res, 400, "Missing service ID or name");
      return;
    }
    if (req.method === "PUT" && url.pathname.startsWith("/v1/agent/service/deregister/")) {
      calls.deregister++;
      await readBody(req);
      const id = decodeURIComponent(url.pathname.slice("/v1/agent/service/deregister/".length));
      if (remove(id)) reply(res, 200);
      else reply(res, 404, `Unknown service ID "${id}". Ensure that the service ID is passed, not the service name.`);
      return;
    }
    if (req.method === "GET" && url.pathname === "/v1/agent/services") {
      calls.services++;
      const clauses = parseFilter(url.searchParams.get("filter") ?? "");
      if (!clauses) reply(res, 400, 'bench agent: only Meta.<key> == "<value>" clauses joined by and are supported');
      else reply(res, 200, JSON.stringify(list(clauses)));
      return;
    }
    await readBody(req);
    reply(res, 404, "bench agent: not implemented");
  }

  const server = createServer({ keepAlive: true }, (req, res) => {
    route(req, res).catch((err: unknown) => reply(res, 500, (err as Error).message));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const close = () =>
    new Promise<void>((resolve) => {
      unregister();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  const unregister = registerCleanup(`bench agent ${port}`, close);
  return {
    url: `http://127.0.0.1:${port}`,
    registeredAt,
    goneAt,
    calls,
    resetRecords() {
      registeredAt.clear();
      goneAt.clear();
      Object.assign(calls, { register: 0, deregister: 0, services: 0 });
    },
    lastChangeAt: () => lastChange,
    forget: remove,
    restore: (service) => void store(registrationOf(service)),
    ownedBy: (node) => [...(byNode.get(node) ?? [])].map((id) => services.get(id)!),
    close,
  };
}
