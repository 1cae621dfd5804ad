// An agent that answers slowly: an HTTP proxy in front of an agent double that holds each request
// `delayMs` before passing it on. For the isolation tests (P7): a node whose agent takes 2 s.
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { registerCleanup } from "./harness/cleanup.ts";

export type DelayedAgent = { url: string; close(): Promise<void> };

export async function startDelayedAgent(target: string, delayMs: number): Promise<DelayedAgent> {
  const to = new URL(target);
  const server = createServer((req, res) => {
    setTimeout(() => {
      const forward = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      forward.once("error", () => res.destroy());
      req.pipe(forward);
    }, delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => {
        resolve();
      });
    });
  const unregister = registerCleanup(`delayed agent → ${target}`, close);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      unregister();
      await close();
    },
  };
}
