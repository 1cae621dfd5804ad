// The berth processes of a pipeline: each node's emitter and the handler workers, with the
// environment composed once (NATS and prefix for all, then the pipeline's, the node's, the call's).
import { startBerth, type BerthProcess } from "../berth-process.ts";
import type { NodeParts } from "./nodes.ts";
import type { PipelineOptions } from "./options.ts";

export type Processes = {
  emitters: Map<string, BerthProcess>;
  handlers: BerthProcess[];
  /** NATS_URL and BERTH_PREFIX, then the pipeline's env: what every berth process of the pipeline gets. */
  env: () => Record<string, string>;
  /** BERTH_CONSUL_AGENTS naming every node's agent; `tokens` adds `;token=<value>` to a node's entry. */
  agentsEnv: (tokens?: Record<string, string>) => string;
  /** The environment a handler starts with (before the call's own). */
  handlerEnv: () => Record<string, string>;
  /** The environment the node's emitter starts with (before the call's own). */
  emitterEnv: (node: string) => Promise<Record<string, string>>;
  /** Starts the node's emitter and waits until it watches Docker. */
  startEmitter: (node: string, env?: Record<string, string>) => Promise<BerthProcess>;
  /** Starts one more handler worker and waits until it has started. */
  startHandler: (env?: Record<string, string>) => Promise<BerthProcess>;
  /** SIGKILL of one handler (no drain), dropped from `handlers`. */
  killHandler: (handler: BerthProcess) => Promise<void>;
  /** SIGTERM of every handler, each waited for; `handlers` is empty after. */
  stopHandlers: () => Promise<void>;
  /** A berth process with the pipeline's env and `env`, not waited for: for processes a test expects to fail. */
  spawn: (kind: "emitter" | "handler", env?: Record<string, string>) => Promise<BerthProcess>;
};

export function processes(opts: PipelineOptions, natsUrl: () => string, nodes: Map<string, NodeParts>): Processes {
  const emitters = new Map<string, BerthProcess>();
  const handlers: BerthProcess[] = [];
  const dockerHosts = new Map<string, string>();
  const node = (name: string) => {
    const parts = nodes.get(name);
    if (!parts) throw new Error(`no node ${name} in this pipeline`);
    return parts;
  };
  const env = () => ({ NATS_URL: natsUrl(), BERTH_PREFIX: opts.prefix, ...opts.env });
  const agentsEnv = (tokens: Record<string, string> = {}) =>
    [...nodes.values()]
      .filter((n) => n.agentUrl !== undefined)
      .map((n) => `${n.spec.name}=${n.agentUrl}${tokens[n.spec.name] === undefined ? "" : `;token=${tokens[n.spec.name]}`}`)
      .join(",");
  const handlerEnv = () => ({ ...env(), BERTH_CONSUL_AGENTS: agentsEnv(), ...opts.handlerEnv });
  const emitterEnv = async (name: string) => {
    const parts = node(name);
    const engine = parts.docker ?? parts.podman;
    if (!engine) throw new Error(`node ${name} has no engine for an emitter`);
    const spec = parts.spec.emitter || {};
    if (!dockerHosts.has(name)) dockerHosts.set(name, spec.dockerHost && parts.docker ? await spec.dockerHost(parts.docker) : engine.host);
    return {
      ...env(),
      DOCKER_HOST: dockerHosts.get(name)!,
      BERTH_NODE: name,
      BERTH_HOST_IP: parts.spec.ip,
      ...(opts.resyncSeconds === undefined ? {} : { BERTH_RESYNC_SECONDS: String(opts.resyncSeconds) }),
      ...opts.emitterEnv,
      ...spec.env,
    };
  };
  return {
    emitters,
    handlers,
    env,
    agentsEnv,
    handlerEnv,
    emitterEnv,
    async startEmitter(name, extra = {}) {
      const emitter = await startBerth("emitter", { ...(await emitterEnv(name)), ...extra });
      emitters.set(name, emitter);
      await emitter.waitForLog((l) => l.msg === "watching docker", `${name} emitter watching`);
      return emitter;
    },
    async startHandler(extra = {}) {
      const handler = await startBerth("handler", { ...handlerEnv(), ...extra });
      handlers.push(handler);
      await handler.waitForLog((l) => l.msg === "started", "handler started");
      return handler;
    },
    async killHandler(handler) {
      await handler.stop("SIGKILL");
      handlers.splice(handlers.indexOf(handler), 1);
    },
    async stopHandlers() {
      await Promise.all(handlers.splice(0).map((h) => h.stop()));
    },
    spawn: (kind, extra = {}) => startBerth(kind, { ...env(), ...extra }),
  };
}
