// The agent API's bodies and answers, in Consul's own field names (api/agent.go), and the client's shape.

/** One upstream of a sidecar proxy (api.Upstream): the service it reaches on a local port. */
export type ConnectUpstream = { DestinationName: string; LocalBindPort: number };

/** A registration's `Connect` (api.AgentServiceConnect): Connect-native, or a sidecar the agent creates. */
export type ServiceConnect = {
  Native?: boolean;
  SidecarService?: { Meta?: Record<string, string>; Proxy?: { Upstreams: ConnectUpstream[] } };
};

export type ServiceRegistration = {
  ID: string;
  Name: string;
  Tags?: string[];
  Address?: string;
  Port?: number;
  Meta?: Record<string, string>;
  EnableTagOverride?: boolean;
  Weights?: { Passing: number; Warning: number };
  /** Consul's names: `lan_ipv4`, `lan_ipv6`, `wan_ipv4`, `wan_ipv6` (the agent adds the Address's own family). */
  TaggedAddresses?: Record<string, { Address: string; Port: number }>;
  /** Consul Connect: a Connect-native app, or a sidecar proxy service the agent creates as `<ID>-sidecar-proxy`. */
  Connect?: ServiceConnect;
  Check?: ServiceCheck;
  Checks?: ServiceCheck[];
};

/** One check of a registration (the AgentServiceCheck fields berth sends). Durations are Go text: `10s`. */
export type ServiceCheck = {
  /** Given for checks berth must address later (the Docker health TTL check); else Consul numbers them. */
  CheckID?: string;
  Name?: string;
  Notes?: string;
  HTTP?: string;
  Method?: string;
  TLSSkipVerify?: boolean;
  TCP?: string;
  GRPC?: string;
  GRPCUseTLS?: boolean;
  TTL?: string;
  Args?: string[];
  Interval?: string;
  Timeout?: string;
  Status?: "passing" | "warning" | "critical";
  DeregisterCriticalServiceAfter?: string;
  /** HTTP checks: request headers (Consul wants a list per name), body, and the TLS server name to verify. */
  Header?: Record<string, string[]>;
  Body?: string;
  TLSServerName?: string;
  /** Consecutive results before the status changes (Consul 1.7+; FailuresBeforeWarning 1.11+). */
  SuccessBeforePassing?: number;
  FailuresBeforeWarning?: number;
  FailuresBeforeCritical?: number;
};

/** One entry of `GET /v1/agent/services`. */
export type AgentService = {
  ID: string;
  Service: string;
  Tags: string[];
  Meta: Record<string, string>;
  Port: number;
  Address: string;
  /** `connect-proxy` for a sidecar the agent created for a service registered with Connect.SidecarService. */
  Kind?: string;
  EnableTagOverride?: boolean;
};

export type AgentClient = {
  register(service: ServiceRegistration): Promise<void>;
  /** Resolves false when the agent did not know the ID (already gone). */
  deregister(serviceId: string): Promise<boolean>;
  /** Services matching a go-bexpr `filter`, keyed by service ID. */
  services(filter: string): Promise<Record<string, AgentService>>;
  /** Sets a TTL check's status and output (`PUT /v1/agent/check/update/:id`). */
  updateCheck(checkId: string, status: "passing" | "warning" | "critical", output: string): Promise<void>;
  close(): Promise<void>;
};
