// A tiny HTTP GET for tests: one connection per request (no keep-alive), over TCP or a unix socket.
import { request } from "node:http";

export type HttpResult = { status: number; body: string };

export function httpGet(url: string, opts: { socketPath?: string; timeoutMs?: number } = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        agent: false,
        headers: { connection: "close" },
        ...(opts.socketPath === undefined ? {} : { socketPath: opts.socketPath }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.setTimeout(opts.timeoutMs ?? 2000, () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on("error", reject);
    req.end();
  });
}
