import { setTimeout as sleep } from "node:timers/promises";
import { runMain } from "../common/main.ts";
import { redactText } from "../common/redact.ts";
import { createLogger } from "../common/log.ts";
import { connectBus, ensureJetStream, streamSettings, watchConnection } from "../common/nats/index.ts";
import { startOps } from "../common/ops-server.ts";
import { emitterMetrics } from "./metrics.ts";
import { isValidNodeName } from "../schemas/index.ts";
import { labelPrefixes, loadEmitterConfig } from "./config.ts";
import { dockerSource, type DockerSource } from "./docker.ts";
import { eventPublisher } from "./publish.ts";
import { resyncEvery } from "./snapshot.ts";
import { watchDocker } from "./watch.ts";

/** BERTH_NODE, else the engine's name up to the first dot; waits for Docker rather than exiting. */
async function resolveNode(docker: DockerSource, configured: string | undefined, signal: AbortSignal): Promise<string> {
  if (configured) return configured;
  for (;;) {
    try {
      const name = (await docker.engineName()).split(".")[0] ?? "";
      if (!isValidNodeName(name)) throw new Error(`Docker's engine name "${name}" is not a valid node name: set BERTH_NODE`);
      return name;
    } catch (err) {
      if (signal.aborted || /BERTH_NODE/.test((err as Error).message)) throw err;
      process.stderr.write(redactText(`emitter: waiting for Docker: ${(err as Error).message}\n`));
      await sleep(1000, undefined, { signal });
    }
  }
}

runMain("emitter", async (signal) => {
  const config = loadEmitterConfig(process.env);
  const docker = dockerSource(config.DOCKER_HOST, { certPath: config.DOCKER_CERT_PATH, verify: config.DOCKER_TLS_VERIFY });
  let dockerUp = false;
  let natsUp = () => false;
  const ops = await startOps(config, () => ({ docker: dockerUp, nats: natsUp() }));
  const nodeName = await resolveNode(docker, config.BERTH_NODE, signal);
  const log = createLogger("emitter", config.LOG_LEVEL, { node: nodeName }, config.LOG_FORMAT);
  signal.addEventListener("abort", () => {
    log.info({ signal: String(signal.reason) }, "draining");
  });
  if (ops.server) log.info({ port: ops.server.port }, "metrics listening");
  const metrics = emitterMetrics(ops.registry);
  const onDocker = (up: boolean) => {
    dockerUp = up;
    metrics.dockerConnected(nodeName, up);
  };
  const bus = await connectBus(config, `berth-emitter-${nodeName}`, (reason) => {
    log.warn({ nats: config.NATS_URL, err: reason }, "waiting for NATS");
  });
  natsUp = watchConnection(bus);
  const waiting = (reason: string) => log.warn({ waiting_for: reason }, "waiting for JetStream");
  for (const note of await ensureJetStream(bus, streamSettings(config, process.env), waiting)) log[note.level](note.text);
  log.info({ nats: config.NATS_URL, docker: config.DOCKER_HOST, host_ip: config.BERTH_HOST_IP ?? null }, "started");
  const node = { name: nodeName, ...(config.BERTH_HOST_IP ? { hostIp: config.BERTH_HOST_IP } : {}) };
  const deps = {
    docker,
    publish: eventPublisher(bus, log, signal, metrics),
    node,
    labelPrefixes: labelPrefixes(config),
    log,
    signal,
    onDocker,
  };
  await Promise.all([watchDocker(deps), config.BERTH_RESYNC_SECONDS > 0 ? resyncEvery(deps, config.BERTH_RESYNC_SECONDS) : undefined]);
  await bus.drain();
  docker.close();
  await ops.server?.close();
  log.info("stopped");
});
