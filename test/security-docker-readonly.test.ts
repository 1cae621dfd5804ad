// Least privilege on Docker: the emitter only reads. It runs against a private dockerd through a
// recording socket proxy (test/socket-proxy.ts) while containers start, turn healthy, are renamed,
// stopped, started, killed, removed, and a --rm container dies; every request it made must be a
// GET or HEAD on a read endpoint. The docker CLI that drives the containers talks to the engine
// directly, so the proxy sees the emitter's requests only.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { BerthProcess, LogLine } from "./berth-process.ts";
import { cleanupAll } from "./harness/cleanup.ts";
import { TEST_IMAGE } from "./harness/image.ts";
import { waitFor } from "./harness/wait.ts";
import { startPipeline, type Pipeline } from "./pipeline/index.ts";
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
  let p: Pipeline;
  let proxy: SocketProxy;
  let emitter: BerthProcess;
  const docker = (...args: string[]) => p.docker("ro1", ...args);

  before(async () => {
    // An engine, and no agent or handler: only the emitter's requests to Docker matter here.
    p = await startPipeline({ prefix: "ro", nodes: [{ name: "ro1", ip: "127.0.0.61", engine: "docker", agent: false, emitter: false }] });
    if (!p.started) return;
    proxy = await startSocketProxy(p.engine("ro1").socketPath);
    // Running before the emitter starts: listed and inspected at start-up.
    await p.run("ro1", "--name", "early");
    // No BERTH_NODE (so not p.startEmitter): the node name comes from the engine (GET /info).
    emitter = await p.spawn("emitter", { DOCKER_HOST: proxy.host, BERTH_RESYNC_SECONDS: "1", LOG_LEVEL: "debug" });
    await emitter.waitForLog((l) => l.msg === "watching docker", "emitter watching");
  });
  after(cleanupAll);

  test("docker read-only - a whole container lifecycle makes only GET/HEAD requests on read endpoints", async (t) => {
    if (!p.ready(t)) return;
    const published = (type: string, name?: string) => (l: LogLine) =>
      l.msg === "published" && l["type"] === `io.berth.container.${type}` && (name === undefined || l["name"] === name);
    const seen = (match: (l: LogLine) => boolean, what: string) => emitter.waitForLog(match, what, 30_000);

    const id = await docker(
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
    await docker("rename", "web", "web2");
    await seen(published("renamed", "web2"), "web renamed");
    await docker("stop", "-t", "5", "web2");
    await seen(published("stopped", "web2"), "web2 stopped");
    await docker("start", "web2");
    await waitFor(() => emitter.logs.filter(published("started", "web2")).length >= 1, { what: "web2 started again", timeoutMs: 30_000 });
    await docker("kill", "web2");
    await waitFor(() => emitter.logs.filter(published("stopped", "web2")).length >= 2, { what: "web2 killed", timeoutMs: 30_000 });
    await docker("rm", id);
    await waitFor(() => emitter.logs.filter(published("stopped", "web2")).length >= 3, { what: "web2 destroyed", timeoutMs: 30_000 });
    await docker("run", "-d", "--rm", "--pull=never", "--name", "brief", TEST_IMAGE);
    await seen(published("started", "brief"), "brief started");
    await docker("kill", "brief");
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
