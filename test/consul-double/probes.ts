// Active HTTP and TCP checks. The first probe runs after a random delay of up to one
// interval (Consul staggers them), then every interval (at least 1s).
import { request } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect } from "node:net";
import type { StoredCheck } from "./types.ts";

const MIN_INTERVAL_MS = 1000;
const DEFAULT_TIMEOUT_MS = 10_000;

type Report = (status: string, output: string) => void;

/** Go's net error text for the common failures, e.g. "connect: connection refused". */
function dialError(addr: string, err: Error & { code?: string }): string {
  const known: Record<string, string> = {
    ECONNREFUSED: "connect: connection refused",
    ETIMEDOUT: "i/o timeout",
    EHOSTUNREACH: "connect: no route to host",
  };
  return `dial tcp ${addr}: ${known[err.code ?? ""] ?? err.message}`;
}

function probeHttp(c: StoredCheck, timeoutMs: number, report: Report): () => void {
  const url = c.probe.http ?? "";
  const method = c.probe.method || "GET";
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    report("critical", `${method} ${JSON.stringify(url)}: invalid URL`);
    return () => {};
  }
  const headers: Record<string, string | string[]> = { "User-Agent": "Consul Health Check", Accept: "text/plain, text/*, */*" };
  for (const [k, v] of Object.entries(c.probe.header ?? {})) if (v) headers[k] = v;
  const send = target.protocol === "https:" ? httpsRequest : request;
  const req = send(target, { method, headers, timeout: timeoutMs }, (res) => {
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
  const op = method.charAt(0) + method.slice(1).toLowerCase();
  req.on("error", (err) => report("critical", `${op} ${JSON.stringify(url)}: ${dialError(target.host, err)}`));
  req.end(c.probe.body ?? "");
  return () => req.destroy();
}

function probeTcp(c: StoredCheck, timeoutMs: number, report: Report): () => void {
  const addr = c.probe.tcp ?? "";
  const at = addr.lastIndexOf(":");
  const host = addr.slice(0, at).replace(/^\[|\]$/g, "");
  const socket = connect({ host, port: Number(addr.slice(at + 1)), timeout: timeoutMs });
  socket.on("connect", () => {
    socket.destroy();
    report("passing", `TCP connect ${addr}: Success`);
  });
  socket.on("timeout", () => socket.destroy(new Error("i/o timeout")));
  socket.on("error", (err) => report("critical", dialError(addr, err)));
  return () => socket.destroy();
}

/** Starts probing; returns the function that stops it. */
export function startProbe(c: StoredCheck, report: Report): () => void {
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
    cancel = c.type === "http" ? probeHttp(c, timeoutMs, guarded) : probeTcp(c, timeoutMs, guarded);
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
