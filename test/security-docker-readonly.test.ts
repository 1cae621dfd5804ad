// Least privilege on Docker: the emitter only reads. It runs against a private dockerd through a
// recording socket proxy (test/socket-proxy.ts) while containers start, turn healthy, are renamed,
// stopped, started, killed, removed, and a --rm container dies; every request it made must be a
// GET or HEAD on a read endpoint. The docker CLI that drives the containers talks to the engine
// directly, so the proxy sees the emitter's requests only.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startBerth, type BerthProcess, type LogLine } from "./berth-process.ts";
import { cleanupAll } from "./harness/cleanup.ts";
import { docker } from "./harness/docker-cli.ts";
import { canStartDockerd, startDockerd, type PrivateDockerEngine } from "./harness/dockerd.ts";
import { TEST_IMAGE, ensureTestImage } from "./harness/image.ts";
import { canStartNatsServer, startNatsServer } from "./harness/nats.ts";
import { requireOrSkip } from "./harness/prereq.ts";
import { waitFor } from "./harness/wait.ts";
import { startSocketProxy, type ProxiedRequest, type SocketProxy } from "./socket-proxy.ts";

/** The read endpoints the emitter may use (API version prefix and query left out, IDs as <id>). */
const READ_ENDPOINTS = new Set(["/_ping", "/version", "/info", "/events", "/containers/json", "/containers/<id>/json"]);
const READ_METHODS = new Set(["GET", "HEAD"]);

/** `GET /v1.41/containers/3f…/json?size=false` → `GET /containers/<id>/json`. */
function endpointOf({ method, path }: ProxiedRequest): string {
  const bare = path
    .split("?")[0]!
    .replace(/^\/v\d+\.\d+(?=\/)/, "")
    .replace(/^\/containers\/(?!json$)[^/]+/, "/containers/<id>");
  return `${method} ${bare}`;
}

describe("security: the emitter only reads from Docker", () => {
  let engine: PrivateDockerEngine;
  let proxy: SocketProxy;
  let emitter: BerthProcess;
  let ready = false;

  before(async () => {
    if (!canStartDockerd() || !canStartNatsServer()) return;
    const nats = await startNatsServer();
    engine = await startDockerd({ name: "ro1", ip: "127.0.0.61" });
    await ensureTestImage(engine);
    proxy = await startSocketProxy(engine.socketPath);
    // Running before the emitter starts: listed and inspected at start-up.
    await docker(engine, "run", "-d", "--pull=never", "--name", "early", "-p", "8080", TEST_IMAGE);
    // No BERTH_NODE: the node name comes from the engine (GET /info).
    emitter = await startBerth("emitter", {
      NATS_URL: nats.url,
      BERTH_PREFIX: "ro",
      DOCKER_HOST: proxy.host,
      BERTH_RESYNC_SECONDS: "1",
      LOG_LEVEL: "debug",
    });
    await emitter.waitForLog((l) => l.msg === "watching docker", "emitter watching");
    ready = true;
  });
  after(cleanupAll);

  test("docker read-only - a whole container lifecycle makes only GET/HEAD requests on read endpoints", async (t) => {
    if (!requireOrSkip(t, "root, dockerd and nats-server", ready)) return;
    const published = (type: string, name?: string) => (l: LogLine) =>
      l.msg === "published" && l["type"] === `io.berth.container.${type}` && (name === undefined || l["name"] === name);
    const seen = (match: (l: LogLine) => boolean, what: string) => emitter.waitForLog(match, what, 30_000);

    const id = await docker(
      engine,
      "run",
      "-d",
      "--pull=never",
      "--name",
      "web",
      "-p",
      "8080",
      "--health-cmd",
      "wget -q -O /dev/null http://127.0.0.1:8080/",
      "--health-interval",
      "1s",
      TEST_IMAGE,
    );
    await seen(published("started", "web"), "web started");
    await seen(published("health", "web"), "web's health");
    await docker(engine, "rename", "web", "web2");
    await seen(published("renamed", "web2"), "web renamed");
    await docker(engine, "stop", "-t", "5", "web2");
    await seen(published("stopped", "web2"), "web2 stopped");
    await docker(engine, "start", "web2");
    await waitFor(() => emitter.logs.filter(published("started", "web2")).length >= 1, { what: "web2 started again", timeoutMs: 30_000 });
    await docker(engine, "kill", "web2");
    await waitFor(() => emitter.logs.filter(published("stopped", "web2")).length >= 2, { what: "web2 killed", timeoutMs: 30_000 });
    await docker(engine, "rm", id);
    await waitFor(() => emitter.logs.filter(published("stopped", "web2")).length >= 3, { what: "web2 destroyed", timeoutMs: 30_000 });
    await docker(engine, "run", "-d", "--rm", "--pull=never", "--name", "brief", TEST_IMAGE);
    await seen(published("started", "brief"), "brief started");
    await docker(engine, "kill", "brief");
    await seen(published("stopped", "brief"), "brief stopped (removed by --rm)");
    const snapshots = emitter.logs.filter((l) => l.msg === "published" && l["type"] === "io.berth.node.snapshot").length;
    await waitFor(() => emitter.logs.filter((l) => l.msg === "published" && l["type"] === "io.berth.node.snapshot").length > snapshots, {
      what: "a resync after it all",
      timeoutMs: 30_000,
    });

    const requests = proxy.requests();
    const counts = new Map<string, number>();
    for (const r of requests) counts.set(endpointOf(r), (counts.get(endpointOf(r)) ?? 0) + 1);
    t.diagnostic(`the emitter's ${requests.length} Docker requests: ${[...counts].map(([e, n]) => `${e} ×${n}`).join(", ")}`);
    const writes = requests.filter((r) => !READ_METHODS.has(r.method) || !READ_ENDPOINTS.has(endpointOf(r).split(" ")[1]!));
    assert.deepEqual(writes, [], "requests that are not a read of a read endpoint");
    // Positive controls: the proxy saw the emitter's traffic (the start-up reads, the event stream, inspects, resync lists).
    for (const endpoint of ["GET /info", "GET /events", "GET /containers/json", "GET /containers/<id>/json"])
      assert.ok(counts.has(endpoint), `${endpoint} seen`);
    assert.ok((counts.get("GET /containers/<id>/json") ?? 0) >= 8, "an inspect per event");
  });
});
