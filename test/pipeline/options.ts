// What a test asks of startPipeline (test/pipeline/index.ts), and what it needs installed for it.
import type { ConsulDoubleOptions } from "../consul-double/index.ts";
import { missingForDockerd, type PrivateDockerEngine } from "../harness/dockerd.ts";
import { canStartNatsServer } from "../harness/nats.ts";
import { missingForPodman } from "../harness/podman.ts";

/** An agent double of the node (options as startConsulDouble's, less node and port), optionally behind a delaying proxy. */
export type AgentSpec = Omit<ConsulDoubleOptions, "node" | "port"> & { delayMs?: number };

export type EmitterSpec = {
  /** More environment for this node's emitter (after the pipeline's emitterEnv). */
  env?: Record<string, string>;
  /** DOCKER_HOST the emitter uses instead of its engine's own socket (e.g. a socket proxy in front of it). */
  dockerHost?: (engine: PrivateDockerEngine) => Promise<string>;
  /** Not started with the pipeline: the test calls startEmitter(node) when it wants it. */
  deferred?: boolean;
};

export type NodeSpec = {
  name: string;
  /** BERTH_HOST_IP of its emitter, its engine's bind address and its agent double's address; default 127.0.0.1. */
  ip?: string;
  /** Its container engine: a private dockerd, a private Podman, or none (default: none; synthetic events only). */
  engine?: "docker" | "podman" | "none";
  /**
   * Its Consul agent: an agent double (default, `true` or options), `"absent"` (in BERTH_CONSUL_AGENTS on a
   * port where nothing answers), `{ url }` (an agent the test runs itself) or `false` (no agent for the node).
   */
  agent?: boolean | AgentSpec | "absent" | { url: string };
  /** Its emitter; default: one when the node has an engine and the pipeline a NATS. */
  emitter?: boolean | EmitterSpec;
};

export type NatsSpec =
  | false
  /** One nats-server with JetStream; `config`: more configuration (e.g. examples/nats-server.conf). */
  | { config?: string }
  /** A NATS cluster of `cluster` servers (test/harness/nats-cluster.ts); `deferred`: none started, the test starts each. */
  | { cluster: number; deferred?: boolean }
  /** Servers the test started itself. */
  | { url: string };

export type PipelineOptions = {
  /** BERTH_PREFIX of every process and of the test's bus. */
  prefix: string;
  nodes?: NodeSpec[];
  /** NATS for the pipeline; default: one nats-server. `false`: engines and agents only. */
  nats?: NatsSpec;
  /** Handler workers started with the pipeline; default 1 when there is a NATS and an agent. */
  handlers?: number;
  /** Environment for every berth process (e.g. BERTH_REPLICAS, LOG_LEVEL). */
  env?: Record<string, string>;
  /** More environment for the handlers (mapping settings here are the oracle's too). */
  handlerEnv?: Record<string, string>;
  /** More environment for every emitter. */
  emitterEnv?: Record<string, string>;
  /** BERTH_RESYNC_SECONDS of the emitters; default: theirs. */
  resyncSeconds?: number;
  /** A bus for the test (publish, dead letters), set up with ensureJetStream; an object: its extra env (credentials). */
  bus?: boolean | Record<string, string>;
  /** More prerequisites of the test, by name (e.g. `{ openssl: opensslBinary() !== undefined }`). */
  requires?: Record<string, boolean>;
};

export type ResolvedNode = {
  name: string;
  ip: string;
  engine: "docker" | "podman" | "none";
  agent: false | "absent" | { url: string } | AgentSpec;
  emitter: false | EmitterSpec;
};

export function resolveNode(spec: NodeSpec, nats: NatsSpec): ResolvedNode {
  const engine = spec.engine ?? "none";
  const agent = spec.agent === undefined || spec.agent === true ? {} : spec.agent;
  const wantsEmitter = spec.emitter ?? (engine !== "none" && nats !== false);
  return {
    name: spec.name,
    ip: spec.ip ?? "127.0.0.1",
    engine,
    agent,
    emitter: wantsEmitter === false ? false : wantsEmitter === true ? {} : wantsEmitter,
  };
}

/** What is missing on this machine for the pipeline `opts` describes (empty: it can start). */
export function missingFor(opts: PipelineOptions): string[] {
  const nodes = (opts.nodes ?? []).map((n) => resolveNode(n, opts.nats ?? {}));
  const missing = new Set<string>();
  const nats = opts.nats ?? {};
  if (nats !== false && !("url" in nats) && !canStartNatsServer()) missing.add("nats-server");
  if (nodes.some((n) => n.engine === "docker")) for (const m of missingForDockerd()) missing.add(m);
  if (nodes.some((n) => n.engine === "podman")) for (const m of missingForPodman()) missing.add(m);
  for (const [what, ok] of Object.entries(opts.requires ?? {})) if (!ok) missing.add(what);
  return [...missing];
}

/** What the pipeline needs, for the skip (or CI failure) message. */
export function needsOf(opts: PipelineOptions): string {
  const nodes = (opts.nodes ?? []).map((n) => resolveNode(n, opts.nats ?? {}));
  const needs = [
    ...(opts.nats === false ? [] : ["nats-server"]),
    ...(nodes.some((n) => n.engine === "docker") ? ["root and dockerd"] : []),
    ...(nodes.some((n) => n.engine === "podman") ? ["root and Podman"] : []),
    ...Object.keys(opts.requires ?? {}),
  ];
  return needs.join(", ");
}
