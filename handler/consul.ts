// The only file that speaks to Consul agents: a small typed client for the agent endpoints berth
// uses, over Node's own HTTP (kept-alive connections; an HTTP library cost ~20 MB per handler).
import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { redactText } from "../common/redact.ts";
import type { ServiceConnect } from "./connect.ts";

/** Body of `PUT /v1/agent/service/register`, in Consul's own field names. */
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

/**
 * Answers with a 5xx status that waiting cannot change: the agent refuses the request itself, and
 * will again (its texts, from Consul's source). Any other 5xx is taken as trouble that passes.
 */
const PERMANENT_REFUSALS: readonly RegExp[] = [
  // agent/agent.go addCheck: a script or Docker check while enable_script_checks is off (the default).
  /^Scripts are disabled on this agent/,
  // agent/agent.go validateService: an explicit tagged address of the wrong family.
  /^Service tagged address "[^"]*" must be a valid ipv[46] address$/,
  // agent/agent.go validateService/addCheck: what the endpoint's own 400s did not catch.
  /^Check is not valid: /,
  // agent/agent.go updateTTLCheck: the check is not a TTL check (before 1.11: or not there at all).
  /^CheckID "[^"]*" does not have associated TTL$/,
];

/** agent/agent.go vetServiceUpdate before 1.11 (PR #10894): `Unknown service "web"`, from 1.7 `Unknown service {"web" {}}`. */
const UNKNOWN_SERVICE_BEFORE_1_11 = /^Unknown service [{"]/;

/** Whether waiting can help: unreachable, 429, or a 5xx other than a permanent refusal. */
export function isRetryable(status: number, agentText: string): boolean {
  if (status === 0 || status === 429) return true;
  return status >= 500 && !PERMANENT_REFUSALS.some((refusal) => refusal.test(agentText));
}

/**
 * A failed agent call. `status` is the HTTP status, or 0 when the agent could not be reached;
 * `retryable` tells the caller whether waiting can help (unreachable, 429, a 5xx that passes) or
 * not (any other 4xx, or a refusal the agent will repeat, such as disabled script checks).
 */
export class ConsulError extends Error {
  override readonly name = "ConsulError";
  readonly code = "E_CONSUL";
  readonly retryable: boolean;
  readonly agentText: string;
  readonly op: string;
  readonly status: number;
  constructor(op: string, status: number, agentText: string, options?: ErrorOptions) {
    // An agent (or a proxy before it) may quote the token it refused: the text goes to logs and dead letters.
    const text = redactText(agentText);
    super(`consul: ${op}: ${status === 0 ? "agent unreachable" : `${status}`}: ${text}`, options);
    this.op = op;
    this.status = status;
    this.agentText = text;
    this.retryable = isRetryable(status, text);
  }
}

const REQUEST_TIMEOUT_MS = 10_000;
/** Calls to one agent at once, at most. */
const CONNECTIONS = 16;

/** PEM texts for HTTPS to agents: the CA that signed their certificates, and a client certificate + key. */
export type ConsulTls = { ca?: string; cert?: string; key?: string };

export type AgentClientOptions = { token?: string | undefined; tls?: ConsulTls | undefined };

/** Node's codes for a server certificate that does not verify. */
const UNTRUSTED_CERTIFICATE =
  /^(ERR_TLS_CERT_ALTNAME_INVALID|UNABLE_TO_|SELF_SIGNED_CERT|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_|HOSTNAME_MISMATCH)/;

/** Why a call got no answer, with what to check when TLS is the likely cause (it is retried all the same). */
function unreachable(err: unknown, https: boolean, tls: ConsulTls | undefined): string {
  const { message, code } = err as NodeJS.ErrnoException;
  const text = typeof code === "string" ? `${message} (${code})` : message;
  if (typeof code === "string" && UNTRUSTED_CERTIFICATE.test(code)) {
    return `${text}: the agent's certificate is not trusted: ${tls?.ca === undefined ? "set CONSUL_CACERT to the CA that signed it" : "CONSUL_CACERT does not hold the CA that signed it"}`;
  }
  // Node 26 reports the agent's TLS alert; older runtimes saw only the connection reset.
  if (https && tls?.cert === undefined && (code === "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED" || code === "ECONNRESET")) {
    return `${text}: an agent that verifies clients (verify_incoming_https) closes the connection without a client certificate: set CONSUL_CLIENT_CERT and CONSUL_CLIENT_KEY`;
  }
  return text;
}

export function agentClient(baseUrl: string, { token, tls }: AgentClientOptions = {}): AgentClient {
  const url = new URL(baseUrl);
  const base = url.pathname.replace(/\/$/, "");
  const secure = url.protocol === "https:";
  const target = { host: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port || (secure ? 443 : 80)) };
  // Connections kept open between calls, however far apart: an agent berth calls now and then
  // costs no new connection (nor TLS handshake) per event. Certificates are always verified
  // (against `ca` when given, else the system's CAs).
  const agent = secure
    ? new HttpsAgent({ keepAlive: true, maxSockets: CONNECTIONS, ...tls, rejectUnauthorized: true })
    : new HttpAgent({ keepAlive: true, maxSockets: CONNECTIONS });
  const send = secure ? httpsRequest : httpRequest;
  const headers: Record<string, string> = token ? { "x-consul-token": token } : {};

  function call(op: string, method: "GET" | "PUT", path: string, body?: string): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const req = send(
        {
          ...target,
          agent,
          method,
          path: `${base}${path}`,
          timeout: REQUEST_TIMEOUT_MS,
          headers:
            body === undefined ? headers : { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => (text += chunk));
          res.on("end", () => {
            resolve({ status: res.statusCode ?? 0, text });
          });
          res.on("error", (err) => {
            reject(new ConsulError(op, 0, unreachable(err, secure, tls), { cause: err }));
          });
        },
      );
      req.on("timeout", () => req.destroy(Object.assign(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`), { code: "ETIMEDOUT" })));
      req.on("error", (err) => {
        reject(new ConsulError(op, 0, unreachable(err, secure, tls), { cause: err }));
      });
      req.end(body);
    });
  }

  return {
    async register(service) {
      const op = "agent.service.register";
      // Replace: checks the new body no longer has (a removed key, a SERVICE_ID reused) go with it.
      const res = await call(op, "PUT", "/v1/agent/service/register?replace-existing-checks=true", JSON.stringify(service));
      if (res.status !== 200) throw new ConsulError(op, res.status, res.text);
    },
    async deregister(serviceId) {
      const op = "agent.service.deregister";
      const res = await call(op, "PUT", `/v1/agent/service/deregister/${encodeURIComponent(serviceId)}`);
      // 404 since Consul 1.11; before, an agent with ACLs on answered 500 `Unknown service "<id>"`.
      if (res.status === 404 || (res.status === 500 && UNKNOWN_SERVICE_BEFORE_1_11.test(res.text))) return false;
      if (res.status !== 200) throw new ConsulError(op, res.status, res.text);
      return true;
    },
    async services(filter) {
      const op = "agent.services";
      const res = await call(op, "GET", `/v1/agent/services?filter=${encodeURIComponent(filter)}`);
      if (res.status !== 200) throw new ConsulError(op, res.status, res.text);
      return JSON.parse(res.text) as Record<string, AgentService>;
    },
    async updateCheck(checkId, status, output) {
      const op = "agent.check.update";
      const res = await call(
        op,
        "PUT",
        `/v1/agent/check/update/${encodeURIComponent(checkId)}`,
        JSON.stringify({ Status: status, Output: output }),
      );
      if (res.status !== 200) throw new ConsulError(op, res.status, res.text);
    },
    close: () => {
      agent.destroy();
      return Promise.resolve();
    },
  };
}
