// A unix-socket pass-through in front of a dockerd, so a test can cut the emitter's Docker
// connections and refuse new ones for a while, as a restarting or flapping engine would, and see
// every request the emitter made (method and path).
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { join } from "node:path";
import { registerCleanup } from "./harness/cleanup.ts";

/** One HTTP request a client sent through the proxy: `GET /v1.41/containers/json?…`. */
export type ProxiedRequest = { method: string; path: string };

export type SocketProxy = {
  host: string; // DOCKER_HOST for the client side
  /** Every request seen so far, in order. */
  requests(): readonly ProxiedRequest[];
  /** Destroys every open connection; while `refusing`, new ones are closed at once. */
  cut(opts?: { refusing: boolean }): void;
  accept(): void;
  close(): Promise<void>;
};

/**
 * Reads HTTP/1.1 request heads off one client's bytes (keep-alive: one after another, bodies of
 * Content-Length skipped). A chunked body or an upgrade ends the reading of that connection: the
 * request that started it is recorded, which is all a read-only check needs.
 */
function requestReader(record: (request: ProxiedRequest) => void): (chunk: Buffer) => void {
  let pending = Buffer.alloc(0);
  let bodyLeft = 0;
  let done = false;
  return (chunk) => {
    if (done) return;
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      const skipped = Math.min(bodyLeft, pending.length);
      pending = pending.subarray(skipped);
      bodyLeft -= skipped;
      const end = bodyLeft > 0 ? -1 : pending.indexOf("\r\n\r\n");
      if (end < 0) return;
      const [requestLine = "", ...headers] = pending.subarray(0, end).toString("latin1").split("\r\n");
      pending = pending.subarray(end + 4);
      const [method = "", path = ""] = requestLine.split(" ");
      record({ method, path });
      const header = (name: string) =>
        headers
          .find((h) => h.toLowerCase().startsWith(`${name}:`))
          ?.slice(name.length + 1)
          .trim();
      if (header("transfer-encoding") !== undefined || header("upgrade") !== undefined) return void (done = true);
      bodyLeft = Number(header("content-length") ?? 0) || 0;
    }
  };
}

export async function startSocketProxy(targetSocket: string): Promise<SocketProxy> {
  const dir = mkdtempSync("/tmp/berth-proxy-");
  const path = join(dir, "docker.sock");
  const open = new Set<Socket>();
  const requests: ProxiedRequest[] = [];
  let refusing = false;
  const server = createServer((client) => {
    if (refusing) return void client.destroy();
    const upstream = connect(targetSocket);
    open.add(client);
    client.on(
      "data",
      requestReader((r) => requests.push(r)),
    );
    const drop = () => {
      open.delete(client);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const close = async () => {
    for (const s of open) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
    unregister();
  };
  const unregister = registerCleanup(`socket proxy ${path}`, close);
  return {
    host: `unix://${path}`,
    requests: () => requests,
    cut(opts = { refusing: false }) {
      refusing = opts.refusing;
      for (const s of open) s.destroy();
    },
    accept: () => void (refusing = false),
    close,
  };
}
