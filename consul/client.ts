// The only file that speaks to Consul agents: a small typed client for the agent endpoints berth
// uses, over Node's own HTTP (kept-alive connections; an HTTP library cost ~20 MB per handler).
import { http, https } from "../common/node-http.ts";
import { ConsulError, UNKNOWN_SERVICE_BEFORE_1_11 } from "./errors.ts";
import type { AgentClient, AgentService } from "./types.ts";

export { ConsulError, isRetryable } from "./errors.ts";
export type { AgentClient, AgentService, ServiceCheck, ServiceRegistration } from "./types.ts";

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
    ? new https.Agent({ keepAlive: true, maxSockets: CONNECTIONS, ...tls, rejectUnauthorized: true })
    : new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const send = secure ? https.request : http.request;
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
