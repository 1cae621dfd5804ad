// A unix-socket pass-through in front of a dockerd, so a test can cut the emitter's Docker
// connections and refuse new ones for a while, as a restarting or flapping engine would.
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { join } from "node:path";
import { registerCleanup } from "./harness/cleanup.ts";

export type SocketProxy = {
  host: string; // DOCKER_HOST for the client side
  /** Destroys every open connection; while `refusing`, new ones are closed at once. */
  cut(opts?: { refusing: boolean }): void;
  accept(): void;
  connections(): number;
  close(): Promise<void>;
};

export async function startSocketProxy(targetSocket: string): Promise<SocketProxy> {
  const dir = mkdtempSync("/tmp/berth-proxy-");
  const path = join(dir, "docker.sock");
  const open = new Set<Socket>();
  let refusing = false;
  const server = createServer((client) => {
    if (refusing) return void client.destroy();
    const upstream = connect(targetSocket);
    open.add(client);
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
    cut(opts = { refusing: false }) {
      refusing = opts.refusing;
      for (const s of open) s.destroy();
    },
    accept: () => void (refusing = false),
    connections: () => open.size,
    close,
  };
}
