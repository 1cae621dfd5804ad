// Wire shapes: api.AgentService, structs.HealthCheck, catalog ServiceNode and health
// CheckServiceNode, with keys in the order Consul emits them.
import { sortKeys } from "./context.ts";
import { BOOT_INDEX } from "./state.ts";
import type { AgentCheck, AgentService, Identity, StoredCheck, StoredService } from "./types.ts";

export const CONSUL_VERSION = "1.17.0";

export function nodeMeta(): Record<string, string> {
  return { "consul-network-segment": "", "consul-version": CONSUL_VERSION };
}

function nodeTaggedAddresses(id: Identity): Record<string, string> {
  return { lan: id.address, lan_ipv4: id.address, wan: id.address, wan_ipv4: id.address };
}

const emptyProxy = () => ({ Mode: "", MeshGateway: {}, Expose: {} });
const isProxyKind = (kind: string) => kind !== "" && kind !== "typical";
const hasTagged = (s: StoredService) => Object.keys(s.taggedAddresses).length > 0;
const isNative = (s: StoredService) =>
  typeof s.connect === "object" && s.connect !== null && (s.connect as { Native?: unknown }).Native === true;

/** The `consul` service that server agents (and `consul agent -dev`) register. */
export function serverService(): StoredService {
  return {
    kind: "",
    id: "consul",
    name: "consul",
    tags: [],
    port: 8300,
    address: "",
    socketPath: "",
    meta: {
      non_voter: "false",
      raft_version: "3",
      read_replica: "false",
      serf_protocol_current: "2",
      serf_protocol_max: "5",
      serf_protocol_min: "1",
      version: CONSUL_VERSION,
    },
    taggedAddresses: {},
    weights: { Passing: 1, Warning: 1 },
    enableTagOverride: false,
    proxy: undefined,
    connect: undefined,
    createIndex: BOOT_INDEX,
    modifyIndex: BOOT_INDEX,
  };
}

export function agentServiceView(s: StoredService, dc: string, contentHash?: string): AgentService {
  const out: AgentService = {
    ...(s.kind ? { Kind: s.kind } : {}),
    ID: s.id,
    Service: s.name,
    Tags: [...s.tags],
    Meta: sortKeys(s.meta ?? {}),
    Port: s.port,
    Address: s.address,
    ...(s.socketPath ? { SocketPath: s.socketPath } : {}),
    ...(hasTagged(s) ? { TaggedAddresses: sortKeys(structuredClone(s.taggedAddresses)) } : {}),
    Weights: { ...s.weights },
    EnableTagOverride: s.enableTagOverride,
    ...(contentHash !== undefined ? { ContentHash: contentHash } : {}),
    ...(isProxyKind(s.kind) ? { Proxy: s.proxy ?? {} } : {}),
    ...(isNative(s) ? { Connect: { Native: true } } : {}),
    Datacenter: dc,
  };
  return out;
}

/** structs.HealthCheck as the agent and health endpoints show it. */
export function checkView(c: StoredCheck, id: Identity, services: Map<string, StoredService>, catalog: boolean): AgentCheck {
  const svc = services.get(c.serviceId);
  return {
    Node: id.node,
    CheckID: c.id,
    Name: c.name,
    Status: catalog ? c.synced.status : c.status,
    Notes: c.notes,
    Output: catalog ? c.synced.output : c.output,
    ServiceID: c.serviceId,
    ServiceName: svc?.name ?? "",
    ServiceTags: svc ? [...svc.tags] : [],
    Type: c.type,
    Interval: c.interval,
    Timeout: c.timeout,
    ExposedPort: 0,
    Definition: {},
    CreateIndex: catalog ? c.createIndex : 0,
    ModifyIndex: catalog ? c.modifyIndex : 0,
  };
}

export function serfHealthView(id: Identity): AgentCheck {
  return {
    Node: id.node,
    CheckID: "serfHealth",
    Name: "Serf Health Status",
    Status: "passing",
    Notes: "",
    Output: "Agent alive and reachable",
    ServiceID: "",
    ServiceName: "",
    ServiceTags: [],
    Type: "",
    Interval: "",
    Timeout: "",
    ExposedPort: 0,
    Definition: {},
    CreateIndex: BOOT_INDEX,
    ModifyIndex: BOOT_INDEX,
  };
}

/** catalog ServiceNode (GET /v1/catalog/service/:name), as captured from 1.17. */
export function catalogServiceView(s: StoredService, id: Identity): Record<string, unknown> {
  return {
    ID: id.nodeId,
    Node: id.node,
    Address: id.address,
    Datacenter: id.datacenter,
    TaggedAddresses: nodeTaggedAddresses(id),
    NodeMeta: nodeMeta(),
    ServiceKind: s.kind,
    ServiceID: s.id,
    ServiceName: s.name,
    ServiceTags: [...s.tags],
    ServiceAddress: s.address,
    ...(hasTagged(s) ? { ServiceTaggedAddresses: sortKeys(structuredClone(s.taggedAddresses)) } : {}),
    ServiceWeights: { ...s.weights },
    ServiceMeta: sortKeys(s.meta ?? {}),
    ServicePort: s.port,
    ServiceSocketPath: s.socketPath,
    ServiceEnableTagOverride: s.enableTagOverride,
    ServiceProxy: isProxyKind(s.kind) ? (s.proxy ?? emptyProxy()) : emptyProxy(),
    ServiceConnect: isNative(s) ? { Native: true } : {},
    ServiceLocality: null,
    CreateIndex: s.createIndex,
    ModifyIndex: s.modifyIndex,
  };
}

export function healthNodeView(id: Identity): Record<string, unknown> {
  return {
    ID: id.nodeId,
    Node: id.node,
    Address: id.address,
    Datacenter: id.datacenter,
    TaggedAddresses: nodeTaggedAddresses(id),
    Meta: nodeMeta(),
    CreateIndex: BOOT_INDEX,
    ModifyIndex: BOOT_INDEX,
  };
}

/** structs.NodeService inside a health entry: Meta null when none, Port omitted when 0. */
export function healthServiceView(s: StoredService): Record<string, unknown> {
  return {
    ...(s.kind ? { Kind: s.kind } : {}),
    ID: s.id,
    Service: s.name,
    Tags: [...s.tags],
    Address: s.address,
    ...(hasTagged(s) ? { TaggedAddresses: sortKeys(structuredClone(s.taggedAddresses)) } : {}),
    Meta: s.meta && Object.keys(s.meta).length > 0 ? sortKeys(s.meta) : null,
    ...(s.port !== 0 ? { Port: s.port } : {}),
    ...(s.socketPath ? { SocketPath: s.socketPath } : {}),
    Weights: { ...s.weights },
    EnableTagOverride: s.enableTagOverride,
    Proxy: isProxyKind(s.kind) ? (s.proxy ?? emptyProxy()) : emptyProxy(),
    Connect: isNative(s) ? { Native: true } : {},
    PeerName: "",
    CreateIndex: s.createIndex,
    ModifyIndex: s.modifyIndex,
  };
}
