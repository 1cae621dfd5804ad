// A memory limit is a limit: a handler started as the image starts it (bin/entrypoint.sh, which
// sizes V8's heap from the limit that Node reads but does not keep to) in a memory cgroup of 128 MiB
// of its own, as compose.yaml's mem_limit or `docker run --memory` gives it, drains a backlog of
// 10,000 starts and every node's snapshot without being OOM-killed, its old generation held to half
// the limit (peak ~88 MiB here). A handler given an old generation larger than the limit
// (NODE_OPTIONS=--max-old-space-size=4096, which the entry script leaves alone) is OOM-killed by
// the same backlog; Node's own sizing from the cgroup (no flag) drained it at ~82 MiB.
// `npm run bench` (the fleet) drains 50,000 starts of 1,000 nodes under the same limit.
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, test } from "node:test";
import { startFastAgent } from "../bench/fast-agent.ts";
import { containerOf, fleetAgents, nodeName } from "../bench/fleet.ts";
import { windowed } from "../bench/measure.ts";
import { connectBus, ensureJetStream, publishDurable } from "../common/nats/index.ts";
import { subjectFor, toContainerEvent, toNodeSnapshot, type BerthEvent } from "../schemas/index.ts";
import { startBerth } from "./berth-process.ts";
import { cleanupAll, registerCleanup } from "./harness/cleanup.ts";
import { canLimitMemory, memoryCgroup } from "./harness/memory-cgroup.ts";
import { canStartNatsServer, startNatsServer } from "./harness/nats.ts";
import { requireOrSkip } from "./harness/prereq.ts";
import { waitFor } from "./harness/wait.ts";

after(cleanupAll);

const ROOT = new URL("..", import.meta.url).pathname;
const LIMIT_MIB = 128;
const NODES = 100;
const BACKLOG = 10_000;

/**
 * The image's layout on the sources: bin/entrypoint.sh as it is, beside a dist/bin/berth-main.js that
 * imports the TypeScript entry (no build needed: the entry script and its node flags are what is tested).
 */
function layoutOnSources(): string {
  const dir = mkdtempSync("/tmp/berth-memory-");
  registerCleanup(`memory layout ${dir}`, () => {
    rmSync(dir, { recursive: true, force: true });
    return Promise.resolve();
  });
  mkdirSync(join(dir, "bin"));
  mkdirSync(join(dir, "dist/bin"), { recursive: true });
  copyFileSync(join(ROOT, "bin/entrypoint.sh"), join(dir, "bin/entrypoint.sh"));
  writeFileSync(join(dir, "package.json"), `${JSON.stringify({ type: "module" })}\n`);
  const entry = join(dir, "dist/bin/berth-main.js");
  writeFileSync(entry, `await import(${JSON.stringify(pathToFileURL(join(ROOT, "bin/berth-main.ts")).href)});\n`);
  return dir;
}

test(`memory - a handler started by the image's entry script in a ${LIMIT_MIB} MiB cgroup drains a backlog of ${BACKLOG} starts without being OOM-killed`, async (t) => {
  if (!requireOrSkip(t, "nats-server", canStartNatsServer())) return;
  if (!requireOrSkip(t, "root and a cgroup memory controller", canLimitMemory())) return;
  const prefix = "mem";
  const nats = await startNatsServer();
  const agent = await startFastAgent();
  // The backlog waits in the stream before the handler starts, as after an outage.
  const bus = await connectBus({ NATS_URL: nats.url, BERTH_PREFIX: prefix }, "memory-publisher");
  registerCleanup("memory publisher", () => bus.nc.close());
  await ensureJetStream(bus);
  const publish = (e: BerthEvent) =>
    publishDurable(bus, subjectFor(prefix, e), new TextEncoder().encode(JSON.stringify(e)), e.id).then(() => undefined);
  const node = (i: number) => ({ name: nodeName(i), hostIp: "10.1.0.1" });
  const idOf = (k: number) => `${String(k).padStart(8, "0")}${"c".repeat(56)}`;
  const t0 = BigInt(Date.now()) * 1_000_000n;
  await windowed(BACKLOG, 256, (k) =>
    publish(toContainerEvent("io.berth.container.started", node(k % NODES), t0 + BigInt(k), containerOf(idOf(k), k))),
  );
  // Then each node's snapshot, as the emitters send them: each one reconciled against the node's agent.
  await windowed(NODES, 64, (i) =>
    publish(
      toNodeSnapshot(
        node(i),
        t0 + BigInt(BACKLOG + i),
        Array.from({ length: BACKLOG / NODES }, (_, j) => idOf(i + j * NODES)),
      ),
    ),
  );
  await bus.drain();

  const dir = layoutOnSources();
  const cgroup = memoryCgroup(LIMIT_MIB);
  const handler = await startBerth(
    "handler",
    { NATS_URL: nats.url, BERTH_PREFIX: prefix, BERTH_CONSUL_AGENTS: fleetAgents(NODES, agent.url), LOG_LEVEL: "info" },
    { entry: join(dir, "dist/bin/berth-main.js"), script: join(dir, "bin/entrypoint.sh"), wrap: cgroup.wrap },
  );
  // sh hands over to node (same pid) once the entry script has computed node's flags.
  const cmdline = await waitFor(
    () => {
      const text = readFileSync(`/proc/${handler.pid}/cmdline`, "utf8");
      return text.includes("berth-main.js") ? text : undefined;
    },
    { what: "node started by the entry script", timeoutMs: 15_000 },
  );
  // A handler that dies (the OOM killer's SIGKILL) ends the wait at once, saying so.
  const died = new AbortController();
  void handler.exited.then((e) =>
    died.abort(
      new Error(
        `the handler exited (${JSON.stringify(e)}, OOM kills in its cgroup: ${cgroup.oomKills()}) after ${agent.registeredAt.size} of ${BACKLOG} registrations`,
      ),
    ),
  );
  // Every start registered and every node's snapshot reconciled: the backlog drained.
  const reconciled = () => handler.logs.filter((l) => l.msg === "reconciled").length;
  await waitFor(() => agent.registeredAt.size >= BACKLOG && reconciled() >= NODES, {
    what: `${BACKLOG} registrations and ${NODES} snapshots reconciled`,
    timeoutMs: 240_000,
    intervalMs: 200,
    signal: died.signal,
  });
  t.diagnostic(`peak ${cgroup.peakMib().toFixed(1)} MiB of ${LIMIT_MIB}; node flags: ${cmdline.split("\0").slice(1, -3).join(" ")}`);
  assert.equal(cgroup.oomKills(), 0, "no OOM kill in the handler's cgroup");
  assert.match(
    cmdline,
    new RegExp(`--max-old-space-size=${LIMIT_MIB / 2}\0`),
    "the entry script gave the old generation half of the limit",
  );
  assert.deepEqual(await handler.stop(), { code: 0, signal: null }, handler.stderr.join("\n"));
  await cgroup.remove();
  await agent.close();
});
