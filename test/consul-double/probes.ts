// Active HTTP and TCP checks. The first probe runs after a random delay of up to one
// interval (Consul staggers them), then every interval (at least 1s). They run from the agent's
// network, as a real agent runs them itself (agent/checks/check.go): see ProbeOrigin.
import { request } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect, isIP } from "node:net";
import { networkInterfaces } from "node:os";
import type { ConsulDoubleOptions, StoredCheck } from "./types.ts";

/**
 * Where probes leave from. `own`: the agent has a network namespace of its own, so a loopback
 * target reaches the agent itself — its own port answers, any other is refused. `localAddress`: the
 * agent's address, when it is one of this host's, is the probes' source address.
 */
export type ProbeOrigin = { network: "host" | "own"; localAddress: string | undefined; ownPort: () => number };

const LOOPBACK = /^(?:127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+|localhost)$/i;

export function probeOrigin(opts: ConsulDoubleOptions, ownPort: () => number): ProbeOrigin {
  const address = opts.address;
  const local =
    address !== undefined &&
    isIP(address) !== 0 &&
    !LOOPBACK.test(address) &&
    Object.values(networkInterfaces()).some((list) => list?.some((i) => i.address === address));
  return { network: opts.network ?? "host", localAddress: local ? address : undefined, ownPort };
}

/** In its own network namespace, an agent's loopback holds nothing but the agent itself. */
function refusedInOwnNamespace(origin: ProbeOrigin, host: string, port: number): boolean {
  return origin.network === "own" && LOOPBACK.test(host.replace(/^\[|\]$/g, "")) && port !== origin.ownPort();
}

const MIN_INTERVAL_MS = 1000;
const DEFAULT_TIMEOUT_MS = 10_000;

type Report = (status: string, output: string) => void;

/** Go's net error text for the common failures, e.g. "connect: connection refused". */
function dialError(addr: string, err: { code?: string; message?: string }): string {
  const known: Record<string, string> = {
    ECONNREFUSED: "connect: connection refused",
    ETIMEDOUT: "i/o timeout",
    EHOSTUNREACH: "connect: no route to host",
  };
  return `dial tcp ${addr}: ${known[err.code ?? ""] ?? err.message ?? ""}`;
}

function probeHttp(c: StoredCheck, origin: ProbeOrigin, timeoutMs: number, report: Report): () => void {
  const url = c.probe.http ?? "";
  const method = c.probe.method || "GET";
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    report("critical", `${method} ${JSON.stringify(url)}: invalid URL`);
    return () => {};
  }
  const op = method.charAt(0) + method.slice(1).toLowerCase();
  const port = Number(target.port || (target.protocol === "https:" ? 443 : 80));
  if (refusedInOwnNamespace(origin, target.hostname, port)) {
    const timer = setImmediate(() =>
      report("critical", `${op} ${JSON.stringify(url)}: ${dialError(target.host, { code: "ECONNREFUSED" })}`),
    );
    return () => clearImmediate(timer);
  }
  const headers: Record<string, string | string[]> = { "User-Agent": "Consul Health Check", Accept: "text/plain, text/*, */*" };
  for (const [k, v] of Object.entries(c.probe.header ?? {})) if (v) headers[k] = v;
  const send = target.protocol === "https:" ? httpsRequest : request;
  const from = origin.localAddress === undefined ? {} : { localAddress: origin.localAddress };
  const req = send(target, { method, headers, timeout: timeoutMs, ...from }, (res) => {
    const chunks: Buffer[] = [];
    res.on("data", (b: Buffer) => chunks.push(b));
    res.on("end", () => {
      const code = res.statusCode ?? 0;
      const status = code >= 200 && code < 300 ? "passing" : code === 429 ? "warning" : "critical";
      const body = Buffer.concat(chunks).toString("utf8");
      report(status, `HTTP ${method} ${url}: ${code} ${res.statusMessage ?? ""} Output: ${body}`);
    });
  });
  req.on("timeout", () => req.destroy(new Error(`context deadline exceeded (Client.Timeout exceeded while awaiting headers)`)));
  req.on("error", (err) => report("critical", `${op} ${JSON.stringify(url)}: ${dialError(target.host, err)}`));
  req.end(c.probe.body ?? "");
  return () => req.destroy();
}

function probeTcp(c: StoredCheck, origin: ProbeOrigin, timeoutMs: number, report: Report): () => void {
  const addr = c.probe.tcp ?? "";
  const at = addr.lastIndexOf(":");
  const host = addr.slice(0, at).replace(/^\[|\]$/g, "");
  const port = Number(addr.slice(at + 1));
  if (refusedInOwnNamespace(origin, host, port)) {
    const timer = setImmediate(() => report("critical", dialError(addr, { code: "ECONNREFUSED" })));
    return () => clearImmediate(timer);
  }
  const from = origin.localAddress === undefined ? {} : { localAddress: origin.localAddress };
  const socket = connect({ host, port, timeout: timeoutMs, ...from });
  socket.on("connect", () => {
    socket.destroy();
    report("passing", `TCP connect ${addr}: Success`);
  });
  socket.on("timeout", () => socket.destroy(new Error("i/o timeout")));
  socket.on("error", (err) => report("critical", dialError(addr, err)));
  return () => socket.destroy();
}

/** Starts probing; returns the function that stops it. */
export function startProbe(c: StoredCheck, origin: ProbeOrigin, report: Report): () => void {
  const everyMs = Math.max(c.intervalNs / 1e6, MIN_INTERVAL_MS);
  const timeoutMs = c.timeoutNs > 0 ? c.timeoutNs / 1e6 : DEFAULT_TIMEOUT_MS;
  let stopped = false;
  let timer: NodeJS.Timeout;
  let cancel = () => {};
  const guarded: Report = (status, output) => {
    if (!stopped) report(status, output);
  };
  const run = () => {
    if (stopped) return;
    cancel = c.type === "http" ? probeHttp(c, origin, timeoutMs, guarded) : probeTcp(c, origin, timeoutMs, guarded);
    timer = setTimeout(run, everyMs);
    timer.unref();
  };
  timer = setTimeout(run, Math.random() * everyMs);
  timer.unref();
  return () => {
    stopped = true;
    clearTimeout(timer);
    cancel();
  };
}
