// Synthetic Docker events through the emitter's real path: emitEvent (emitter/watch.ts) with a
// Docker source that answers inspect from memory, then eventPublisher (emitter/publish.ts):
// normalise, validate, JSON, JetStream publish awaiting the stream's ack. Only Docker itself is
// left out (a real inspect costs 0.4–0.9 ms, see FACTS.md; the Docker burst measures it for real).
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createLogger } from "../common/log.ts";
import { connectBus, ensureJetStream, type Bus } from "../common/nats/index.ts";
import type { ContainerInspect, DockerEvent, DockerSource } from "../emitter/docker.ts";
import { eventPublisher } from "../emitter/publish.ts";
import { emitSnapshot, nowNanos } from "../emitter/snapshot.ts";
import { emitEvent, type WatchDeps } from "../emitter/watch.ts";
import { registerCleanup } from "../test/harness/cleanup.ts";

export const BENCH_NODE = "bench";

const fixture = JSON.parse(readFileSync(new URL("../test/fixtures/inspect-running.json", import.meta.url), "utf8")) as ContainerInspect;

export const containerId = (label: string) => createHash("sha256").update(label).digest("hex");

/** A running one-port container (`-e SERVICE_NAME=bench -p <port>:8080`), from a real inspect. */
export function inspectOf(id: string, index: number): ContainerInspect {
  const port = { "8080/tcp": [{ HostIp: "0.0.0.0", HostPort: String(20_000 + (index % 40_000)) }] };
  // PortBindings as Docker reports them too, though berth reads the published ports from NetworkSettings.Ports.
  const hostConfig = { ...fixture.HostConfig, PortBindings: port };
  return {
    ...fixture,
    Id: id,
    Name: `/bench-${index}`,
    Config: {
      ...fixture.Config,
      Hostname: id.slice(0, 12),
      Env: ["SERVICE_NAME=bench", "PATH=/bin"],
      Labels: {},
      ExposedPorts: { "8080/tcp": {} },
    },
    HostConfig: hostConfig,
    NetworkSettings: { ...fixture.NetworkSettings, Ports: port },
  };
}

function startEvent(id: string, index: number): DockerEvent {
  const nanos = Date.now() * 1_000_000 + index;
  return {
    Type: "container",
    Action: "start",
    Actor: { ID: id, Attributes: { name: `bench-${index}`, image: "bench" } },
    time: Math.floor(nanos / 1e9),
    timeNano: nanos,
  };
}

/** How many other running containers a node's snapshot lists (BENCH_NODE_CONTAINERS, default 1,000). */
const NODE_CONTAINERS = Number(process.env.BENCH_NODE_CONTAINERS ?? 1000);

/**
 * The node's snapshot at the start, as the real emitter publishes it, listing NODE_CONTAINERS other
 * containers: a node of that many containers, whose snapshot every start event is checked against.
 */
export async function announceNode(emitter: SyntheticEmitter, label: string): Promise<void> {
  await emitter.snapshot(
    Array.from({ length: NODE_CONTAINERS }, (_, i) => containerId(`${label}-running-${i}`)),
    nowNanos(),
  );
}

export type SyntheticEmitter = {
  /** Inspect answers for these containers are prepared before anything is timed. */
  prepare(ids: readonly string[]): void;
  /** One Docker `start` event reaching the emitter; resolves when the stream has acked it. */
  emit(id: string, index: number): Promise<void>;
  /** The node's snapshot listing `ids` as running at `at` (what the emitter sends at start and every resync). */
  snapshot(ids: string[], at: bigint): Promise<void>;
  close(): Promise<void>;
};

/**
 * The emitter's path in this process. Logging is `silent` (the process's stdout is the table);
 * the real emitter process of the Docker burst logs at `info`.
 */
export async function syntheticEmitter(natsUrl: string, prefix: string, node: string): Promise<SyntheticEmitter> {
  const bus: Bus = await connectBus({ NATS_URL: natsUrl, BERTH_PREFIX: prefix }, "bench-synthetic-emitter");
  const controller = new AbortController();
  const close = async () => {
    unregister();
    controller.abort();
    await bus.drain();
  };
  // Closed by the harness cleanup too, should the phase fail before its own finally.
  const unregister = registerCleanup(`synthetic emitter ${prefix}/${node}`, close);
  await ensureJetStream(bus);
  const inspects = new Map<string, ContainerInspect>();
  const docker: DockerSource = {
    inspect: (id) => Promise.resolve(inspects.get(id)),
    openEvents: () => Promise.reject(new Error("synthetic source: no event stream")),
    runningIds: () => Promise.resolve([]),
    engineName: () => Promise.resolve(node),
    ping: () => Promise.resolve(),
    close: () => undefined,
  };
  const log = createLogger("emitter", "silent");
  const deps: WatchDeps = {
    docker,
    publish: eventPublisher(bus, log, controller.signal),
    node: { name: node, hostIp: "127.0.0.1" },
    labelPrefixes: [],
    log,
    signal: controller.signal,
  };
  return {
    prepare(ids) {
      ids.forEach((id, i) => inspects.set(id, inspectOf(id, i)));
    },
    emit: (id, index) => emitEvent(deps, startEvent(id, index)),
    snapshot: (ids, at) => emitSnapshot(deps, { at, ids }),
    close,
  };
}
