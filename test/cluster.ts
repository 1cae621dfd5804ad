// A whole berth cluster of real parts for fault and chaos tests: a private dockerd, an emitter and
// an agent double per node, one nats-server, N handlers. Everything registers its own cleanup.
import { startBerth, type BerthProcess } from "./berth-process.ts";
import { startConsulDouble, type ConsulDouble } from "./consul-double/index.ts";
import { registerCleanup } from "./harness/cleanup.ts";
import { docker } from "./harness/docker-cli.ts";
import { startDockerd, type PrivateDockerEngine } from "./harness/dockerd.ts";
import { TEST_IMAGE, ensureTestImage } from "./harness/image.ts";
import { startNatsServer, type NatsServer } from "./harness/nats.ts";
import { freePort } from "./harness/ports.ts";
import { waitFor } from "./harness/wait.ts";

export type Drift = { node: string; missing: number; stale: number; running: number };

export type ClusterOptions = {
  prefix: string;
  nodes: { name: string; ip: string }[];
  handlers: number;
  resyncSeconds: number;
  /** DOCKER_HOST an emitter uses instead of its engine's own socket (e.g. a proxy in front of it). */
  dockerHostFor?: (engine: PrivateDockerEngine) => Promise<string>;
  /** NATS_URL of servers the caller started (a cluster); else one nats-server is started here. */
  natsUrl?: string;
  /** More environment for every berth process (e.g. BERTH_REPLICAS). */
  env?: Record<string, string>;
};

export async function startCluster(opts: ClusterOptions) {
  const nats: NatsServer | undefined = opts.natsUrl === undefined ? await startNatsServer() : undefined;
  const natsUrl = opts.natsUrl ?? nats!.url;
  const engines = new Map<string, PrivateDockerEngine>();
  const agents = new Map<string, ConsulDouble>();
  const agentPorts = new Map<string, number>();
  const emitters = new Map<string, BerthProcess>();
  const dockerHosts = new Map<string, string>();
  const handlers: BerthProcess[] = [];
  const ipOf = new Map(opts.nodes.map((n) => [n.name, n.ip]));
  const env = () => ({ NATS_URL: natsUrl, BERTH_PREFIX: opts.prefix, ...opts.env });

  const startAgent = async (node: string) => {
    const agent = await startConsulDouble({ node, address: ipOf.get(node)!, port: agentPorts.get(node)! });
    agents.set(node, agent);
    registerCleanup(`${node} agent double`, () => agent.close());
    return agent;
  };
  const startEmitter = async (node: string) => {
    const emitter = await startBerth("emitter", {
      ...env(),
      DOCKER_HOST: dockerHosts.get(node)!,
      BERTH_NODE: node,
      BERTH_HOST_IP: ipOf.get(node)!,
      BERTH_RESYNC_SECONDS: String(opts.resyncSeconds),
    });
    emitters.set(node, emitter);
    await emitter.waitForLog((l) => l.msg === "watching docker", `${node} emitter watching`);
    return emitter;
  };
  const startHandler = async () => {
    const agentsEnv = opts.nodes.map((n) => `${n.name}=http://127.0.0.1:${agentPorts.get(n.name)}`).join(",");
    const handler = await startBerth("handler", { ...env(), BERTH_CONSUL_AGENTS: agentsEnv });
    await handler.waitForLog((l) => l.msg === "started", "handler started");
    handlers.push(handler);
    return handler;
  };
  const killHandler = async (handler: BerthProcess) => {
    await handler.stop("SIGKILL");
    handlers.splice(handlers.indexOf(handler), 1);
  };

  for (const { name, ip } of opts.nodes) {
    agentPorts.set(name, await freePort());
    await startAgent(name);
    const engine = await startDockerd({ name, ip });
    engines.set(name, engine);
    await ensureTestImage(engine);
    dockerHosts.set(name, opts.dockerHostFor ? await opts.dockerHostFor(engine) : engine.host);
  }
  for (const { name } of opts.nodes) await startEmitter(name);
  for (let i = 0; i < opts.handlers; i++) await startHandler();

  const engine = (node: string) => engines.get(node)!;
  /** `docker run -d` of the test image with a published port on the node's address. */
  const run = (node: string, ...args: string[]) => docker(engine(node), "run", "-d", "--pull=never", "-p", "8080", ...args, TEST_IMAGE);
  const running = async (node: string) =>
    new Set((await docker(engine(node), "ps", "-q", "--no-trunc")).split("\n").filter((l) => l !== ""));

  /** How far the node's agent is from Docker's truth: berth-owned services vs running containers. */
  const drift = async (node: string): Promise<Drift> => {
    const owned = new Set(Object.values(agents.get(node)!.services()).flatMap((s) => s.Meta["berth_container"] ?? []));
    const truth = await running(node);
    return {
      node,
      missing: [...truth].filter((id) => !owned.has(id)).length,
      stale: [...owned].filter((id) => !truth.has(id)).length,
      running: truth.size,
    };
  };
  const converged = (nodes = opts.nodes.map((n) => n.name), timeoutMs = 20_000) =>
    waitFor(
      async () => {
        const d = await Promise.all(nodes.map(drift));
        return d.every((x) => x.missing === 0 && x.stale === 0) && d;
      },
      { what: `agents of ${nodes.join(", ")} equal Docker's running containers`, timeoutMs, intervalMs: 100 },
    );

  return {
    nats,
    natsUrl,
    engine,
    agents,
    emitters,
    handlers,
    startAgent,
    startEmitter,
    startHandler,
    killHandler,
    run,
    running,
    drift,
    converged,
  };
}

export type Cluster = Awaited<ReturnType<typeof startCluster>>;
