// Public and internal types of the Consul agent double.

export type ServiceAddress = { Address: string; Port: number };
export type Weights = { Passing: number; Warning: number };

/** One value of GET /v1/agent/services (api.AgentService), keys in wire order. */
export type AgentService = {
  Kind?: string;
  ID: string;
  Service: string;
  Tags: string[];
  Meta: Record<string, string>;
  Port: number;
  Address: string;
  SocketPath?: string;
  TaggedAddresses?: Record<string, ServiceAddress>;
  Weights: Weights;
  EnableTagOverride: boolean;
  ContentHash?: string;
  Proxy?: unknown;
  Connect?: unknown;
  Datacenter: string;
};

/** One value of GET /v1/agent/checks (structs.HealthCheck), keys in wire order. */
export type AgentCheck = {
  Node: string;
  CheckID: string;
  Name: string;
  Status: string;
  Notes: string;
  Output: string;
  ServiceID: string;
  ServiceName: string;
  ServiceTags: string[];
  Type: string;
  Interval: string;
  Timeout: string;
  ExposedPort: number;
  Definition: Record<string, unknown>;
  CreateIndex: number;
  ModifyIndex: number;
};

export type AclToken = {
  accessorId: string;
  /** Service names (or "*", or a "prefix*") this token may write (write implies read). */
  serviceWrite: string[];
  serviceRead?: string[];
  /** Extensions: node:write (node checks, node maintenance) and agent:read (/v1/agent/self). */
  nodeWrite?: boolean;
  agentRead?: boolean;
};

export type ConsulDoubleOptions = {
  node?: string;
  address?: string;
  datacenter?: string;
  port?: number;
  /** The address the API listens on: 127.0.0.1 by default; a test bridge's gateway for containers to reach. */
  listen?: string;
  acl?: { defaultPolicy: "allow" | "deny"; tokens: Record<string, AclToken> };
  /** Serve HTTPS (PEM texts); with `requireClientCert`, only to clients whose certificate `ca` signed. */
  tls?: { cert: string; key: string; ca?: string; requireClientCert?: boolean };
  /**
   * The agent's `enable_script_checks`: script (`Args`) checks are accepted (stored, never run).
   * Off by default, as in Consul: registering one is a 500 "Scripts are disabled on this agent …".
   */
  enableScriptChecks?: boolean;
  /**
   * Where the agent's HTTP and TCP checks run from, as a real agent runs them itself. `host` (the
   * default): the test host's network namespace, as a node agent with host networking. `own`: a
   * network namespace of its own, as an agent in a container on a bridge: a loopback address is the
   * agent's own, where only the agent itself (the double's port) answers. With an `address` that is
   * one of this host's non-loopback addresses, probes leave from it.
   */
  network?: "host" | "own";
};

export type RequestRecord = { method: string; path: string; query: string; token?: string; body?: string; status: number };

export type ConsulDouble = {
  url: string;
  node: string;
  services(): Record<string, AgentService>;
  checks(): Record<string, AgentCheck>;
  requests: RequestRecord[];
  /** TLS handshakes the double refused (HTTPS only), e.g. a client without a certificate. */
  tlsClientErrors: string[];
  close(): Promise<void>;
};

/** A service as held in the agent's local state (structs.NodeService). */
export type StoredService = {
  kind: string;
  id: string;
  name: string;
  tags: string[];
  /** null when the registration had no Meta (health shows `null`, agent shows `{}`). */
  meta: Record<string, string> | null;
  port: number;
  address: string;
  socketPath: string;
  taggedAddresses: Record<string, ServiceAddress>;
  weights: Weights;
  enableTagOverride: boolean;
  proxy: unknown;
  connect: unknown;
  createIndex: number;
  modifyIndex: number;
};

/** A check as held in local state, plus the copy the catalog last received. */
export type StoredCheck = {
  id: string;
  name: string;
  status: string;
  notes: string;
  output: string;
  serviceId: string;
  type: string;
  interval: string;
  timeout: string;
  ttlNs: number;
  intervalNs: number;
  timeoutNs: number;
  outputMaxSize: number;
  deregisterAfterNs: number;
  probe: { http?: string; method?: string; header?: Record<string, string[] | null>; body?: string; tcp?: string };
  /** Status/Output as synced to the catalog (output-only changes are deferred). */
  synced: { status: string; output: string };
  criticalSince: number | undefined;
  createIndex: number;
  modifyIndex: number;
};

export type Identity = { node: string; nodeId: string; address: string; datacenter: string };
