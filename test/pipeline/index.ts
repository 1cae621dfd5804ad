// The one way integration tests start berth with real parts: nats-server (one, a configured one, a
// cluster, or the test's own), per node a private Docker or Podman engine, an agent double and an
// emitter, N handler workers, and a bus for the test — each optional — composed from the low-level
// harness (test/harness/*, test/consul-double/, test/berth-process.ts). Everything it starts is
// stopped by p.stop() or by cleanupAll(), also after a failure.
//
//   describe("faults", () => {
//     let p: Pipeline;
//     before(async () => (p = await startPipeline({ prefix: "faults", handlers: 2, nodes: [{ name: "f1", ip: "127.0.0.21", engine: "docker" }] })));
//     after(cleanupAll);
//     test("…", async (t) => {
//       if (!p.ready(t)) return;                 // skipped (CI=true: failed) when a prerequisite is missing
//       const id = await p.run("f1");            // the test image, 8080 published on f1's address
//       await p.converged();                     // every agent equal to the mapping of its running containers
//     });
//   });
//
// Options: test/pipeline/options.ts. The oracle (converged, drift, applied): oracle.ts and compare.ts.
import type { TestContext } from "node:test";
import { dockerSource, type DockerSource } from "../../emitter/docker.ts";
import { loadMappingSettings } from "../../cli/mapping-config.ts";
import type { BerthEvent } from "../../schemas/index.ts";
import { registerCleanup } from "../harness/cleanup.ts";
import { docker } from "../harness/docker-cli.ts";
import { TEST_IMAGE } from "../harness/image.ts";
import { startNatsCluster, type NatsCluster } from "../harness/nats-cluster.ts";
import { startNatsServer, type NatsServer } from "../harness/nats.ts";
import { requireOrSkip } from "../harness/prereq.ts";
import { connectTestBus, testBus } from "./bus.ts";
import { appliedTo } from "./applied.ts";
import { setUpNode, type NodeParts } from "./nodes.ts";
import { convergedAll, driftOf, explainOn, type NodeTruth } from "./oracle.ts";
import { missingFor, needsOf, resolveNode, type PipelineOptions } from "./options.ts";
import type { Pipeline } from "./pipeline-type.ts";
import { processes } from "./processes.ts";

export type { Pipeline } from "./pipeline-type.ts";
export type { Drift } from "./oracle.ts";
export type { Difference } from "./compare.ts";
export type { ReadDeadLetter } from "./bus.ts";
export type { PipelineOptions, NodeSpec, AgentSpec, EmitterSpec } from "./options.ts";

export async function startPipeline(opts: PipelineOptions): Promise<Pipeline> {
  const missing = missingFor(opts);
  if (missing.length > 0) return notStarted(`${needsOf(opts)} (missing: ${missing.join(", ")})`);
  const stops: (() => Promise<void>)[] = [];
  const onStop = (stop: () => Promise<void>) => void stops.push(stop);
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s();
  };
  try {
    return await compose(opts, onStop, stop);
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

async function compose(opts: PipelineOptions, onStop: (stop: () => Promise<void>) => void, stop: () => Promise<void>): Promise<Pipeline> {
  const natsSpec = opts.nats ?? {};
  let nats: NatsServer | undefined;
  let natsCluster: NatsCluster | undefined;
  if (natsSpec !== false && "cluster" in natsSpec)
    natsCluster = await startNatsCluster(natsSpec.cluster, { deferred: natsSpec.deferred === true });
  else if (natsSpec !== false && !("url" in natsSpec)) nats = await startNatsServer(natsSpec);
  for (const server of [nats, natsCluster]) if (server) onStop(() => server.stop());
  const natsUrl = natsSpec !== false && "url" in natsSpec ? natsSpec.url : (natsCluster?.url ?? nats?.url ?? "");
  const specs = (opts.nodes ?? []).map((n) => resolveNode(n, natsSpec));
  const nodes = new Map<string, NodeParts>();
  for (const parts of await Promise.all(specs.map((s) => setUpNode(s, onStop)))) nodes.set(parts.spec.name, parts);
  const procs = processes(opts, () => natsUrl, nodes);
  onStop(async () => {
    await procs.stopHandlers();
    await Promise.all([...procs.emitters.values()].map((e) => e.stop()));
  });
  const natsEnv = (extra: Record<string, string> = {}) => ({ ...procs.env(), ...extra, NATS_URL: natsUrl, BERTH_PREFIX: opts.prefix });
  const bus = opts.bus ? await testBus(natsEnv(opts.bus === true ? {} : opts.bus), opts.prefix, onStop) : undefined;
  await Promise.all(specs.filter((s) => s.emitter && !s.emitter.deferred).map((s) => procs.startEmitter(s.name)));
  const handlerCount = opts.handlers ?? (natsSpec !== false && specs.some((s) => s.agent !== false) ? 1 : 0);
  for (let i = 0; i < handlerCount; i++) await procs.startHandler();

  const node = (name: string) => nodes.get(name) ?? fail(`no node ${name} in this pipeline`);
  const engine = (name: string) => node(name).docker ?? fail(`node ${name} has no dockerd`);
  const settings = loadMappingSettings({ ...opts.env, ...opts.handlerEnv });
  const sources = new Map<string, DockerSource>();
  const truth = (name: string): NodeTruth => {
    const parts = node(name);
    const host = (parts.docker ?? parts.podman ?? fail(`node ${name} has no engine`)).host;
    if (!sources.has(name)) {
      const source = dockerSource(host);
      sources.set(name, source);
      // Its kept-alive connections closed before the engine stops (cleanups run newest first).
      const close = () => {
        source.close();
        return Promise.resolve();
      };
      const unregister = registerCleanup(`oracle's docker source of ${name}`, close);
      onStop(() => (unregister(), close()));
    }
    const hostIp = { ...opts.emitterEnv, ...(parts.spec.emitter || {}).env }["BERTH_HOST_IP"] ?? parts.spec.ip;
    return { node: name, hostIp, source: sources.get(name)!, settings, agent: () => parts.double };
  };
  const withEngines = () => [...nodes.values()].filter((n) => n.docker ?? n.podman).map((n) => n.spec.name);
  const { emitterEnv: _emitterEnv, ...rest } = procs;
  return {
    ...rest,
    ready: () => true,
    started: true,
    prefix: opts.prefix,
    settings,
    nats,
    natsCluster,
    natsUrl,
    get bus() {
      return bus?.bus ?? fail("the pipeline has no bus (option `bus`)");
    },
    publish: (e: BerthEvent) => (bus ?? fail("the pipeline has no bus (option `bus`)")).publish(e),
    deadLetters: (limit) => (bus ?? fail("the pipeline has no bus (option `bus`)")).deadLetters(limit),
    async connect(name, env = {}) {
      const { bus: b, stop: drain } = await connectTestBus(natsEnv(env), name);
      onStop(drain);
      return b;
    },
    engine,
    podman: (name) => node(name).podman ?? fail(`node ${name} has no Podman`),
    async startEngine(name) {
      await node(name).startEngine("docker");
      return engine(name);
    },
    docker: (name, ...args) => docker(node(name).docker ?? node(name).podman ?? fail(`node ${name} has no engine`), ...args),
    run: (name, ...args) =>
      docker(
        engine(name),
        "run",
        "-d",
        "--pull=never",
        ...(args.some((a) => /^(-p|--publish)/.test(a)) ? [] : ["-p", "8080"]),
        // A tag the container asks for, which the oracle checks without berth's mapping (ground-truth.ts).
        ...(args.some((a) => a.startsWith("SERVICE_TAGS=")) ? [] : ["-e", "SERVICE_TAGS=berth-test"]),
        ...args,
        TEST_IMAGE,
      ),
    running: async (name) => new Set(await truth(name).source.runningIds()),
    agent: (name) => node(name).double ?? fail(`node ${name} has no agent double`),
    agentUrl: (name) => node(name).agentUrl ?? fail(`node ${name} has no agent`),
    startAgent: (name) => node(name).startAgent(),
    stopAgent: (name) => node(name).stopAgent(),
    emitter: (name) => procs.emitters.get(name) ?? fail(`node ${name} has no emitter running`),
    explain: async (name, ref, s) => (await explainOn(truth(name), ref, s)) ?? fail(`no container ${ref} on ${name}`),
    drift: (name) => driftOf(truth(name)),
    converged: (names = withEngines(), timeoutMs = 20_000) => convergedAll(names.map(truth), timeoutMs),
    applied: (event, timeoutMs = 10_000) =>
      appliedTo(node(event.data.node.name).double, event.data.node.name, [event], settings, { timeoutMs, wholeNode: false }),
    holds: (name, events, timeoutMs = 10_000) => appliedTo(node(name).double, name, events, settings, { timeoutMs, wholeNode: true }),
    stop,
  };
}

function fail(message: string): never {
  throw new Error(message);
}

/** A pipeline that could not start for want of `what`: ready(t) skips; anything else says why it is not there. */
function notStarted(what: string): Pipeline {
  const ready = (t: TestContext) => requireOrSkip(t, what, false);
  return new Proxy({ ready } as Pipeline, {
    get: (target, key) =>
      key === "ready"
        ? target.ready
        : key === "then" || typeof key === "symbol"
          ? undefined
          : fail(`the pipeline did not start: missing ${what}`),
  });
}
