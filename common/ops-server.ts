// The operations endpoints of both processes (BERTH_METRICS_PORT): GET /metrics (Prometheus),
// /healthz (the process is alive and its event loop answers) and /readyz (its dependencies are
// connected: 200 when every check is true, else 503, with the checks as JSON either way).
import type { AddressInfo } from "node:net";
import { http, type ServerResponse } from "./node-http.ts";
import { CONTENT_TYPE, createRegistry, type Registry } from "./metrics.ts";
import { addRuntimeMetrics } from "./runtime-metrics.ts";

/** Each named dependency → whether it is usable right now. */
export type Readiness = () => Record<string, boolean> | Promise<Record<string, boolean>>;

export type OpsServer = { port: number; close(): Promise<void> };

export type OpsOptions = { port: number; host: string; registry: Registry; readiness: Readiness };

function send(res: ServerResponse, status: number, type: string, body: string) {
  res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
  res.end(body);
}

const json = (res: ServerResponse, status: number, value: unknown) => send(res, status, "application/json", `${JSON.stringify(value)}\n`);

export async function startOpsServer({ port, host, registry, readiness }: OpsOptions): Promise<OpsServer> {
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://ops").pathname;
    if (req.method !== "GET" && req.method !== "HEAD") {
      json(res, 405, { error: "only GET" });
      return;
    }
    const answer = async () => {
      if (path === "/metrics") send(res, 200, CONTENT_TYPE, await registry.render());
      else if (path === "/healthz") json(res, 200, { status: "alive" });
      else if (path === "/readyz") {
        const checks = await readiness();
        const ready = Object.values(checks).every(Boolean);
        json(res, ready ? 200 : 503, { status: ready ? "ready" : "not ready", checks });
      } else json(res, 404, { error: "not found", paths: ["/metrics", "/healthz", "/readyz"] });
    };
    answer().catch((err: unknown) => json(res, 500, { error: (err as Error).message }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export type OpsSettings = { BERTH_METRICS_PORT?: number | undefined; BERTH_METRICS_ADDRESS: string };

/**
 * The process's registry, and its server when BERTH_METRICS_PORT is set, with the runtime metrics
 * (which sample the event loop and watch the garbage collector: only when someone can scrape them).
 * Started before anything connects, so /healthz answers and /readyz says what is still missing.
 */
export async function startOps(config: OpsSettings, readiness: Readiness): Promise<{ registry: Registry; server: OpsServer | undefined }> {
  const registry = createRegistry();
  if (config.BERTH_METRICS_PORT === undefined) return { registry, server: undefined };
  const stopRuntime = addRuntimeMetrics(registry);
  const server = await startOpsServer({ port: config.BERTH_METRICS_PORT, host: config.BERTH_METRICS_ADDRESS, registry, readiness });
  return {
    registry,
    server: {
      port: server.port,
      close: async () => {
        stopRuntime();
        await server.close();
      },
    },
  };
}
