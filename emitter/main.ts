import { runMain } from "../common/main.ts";
import { strangerVariables } from "../common/env-names.ts";
import { createLogger } from "../common/log.ts";
import { connectBus, ensureJetStream, streamSettings, watchConnection } from "../common/nats/index.ts";
import { startOps } from "../common/ops-server.ts";
import { loadTracer } from "../common/tracing/index.ts";
import { emitterMetrics } from "./metrics.ts";
import { labelPrefixes, loadEmitterConfig } from "./config.ts";
import { dockerSource } from "./docker.ts";
import { eventPublisher } from "./publish.ts";
import { resolveNode } from "./node-name.ts";
import { resyncEvery } from "./snapshot.ts";
import { watchDocker } from "./watch.ts";

runMain("emitter", async (signal) => {
  const config = loadEmitterConfig(process.env);
  const docker = dockerSource(config.DOCKER_HOST, { certPath: config.DOCKER_CERT_PATH, verify: config.DOCKER_TLS_VERIFY });
  let dockerUp = false;
  let natsUp = () => false;
  const ops = await startOps(config, () => ({ docker: dockerUp, nats: natsUp() }));
  // Until the node is known (Docker may not answer yet), lines go without it.
  const early = createLogger("emitter", config.LOG_LEVEL, {}, config.LOG_FORMAT);
  const draining = () => early.info({ signal: String(signal.reason) }, "draining");
  signal.addEventListener("abort", draining, { once: true });
  for (const stranger of strangerVariables(process.env)) early.warn({ variable: stranger.variable }, stranger.text);
  const node = await resolveNode(docker, config.BERTH_NODE, config.DOCKER_HOST, { log: early, signal });
  const nodeName = node.name;
  const log = createLogger("emitter", config.LOG_LEVEL, { node: nodeName }, config.LOG_FORMAT);
  if (ops.server) log.info({ port: ops.server.port }, "metrics listening");
  const tracer = await loadTracer(process.env, "berth-emitter", (text) => {
    log.warn(text);
  });
  const metrics = emitterMetrics(ops.registry);
  const onDocker = (up: boolean) => {
    dockerUp = up;
    metrics.dockerConnected(nodeName, up);
  };
  const bus = await connectBus(config, `berth-emitter-${nodeName}`, { log, signal });
  natsUp = watchConnection(bus, log);
  for (const note of await ensureJetStream(bus, streamSettings(config, process.env), { log, signal })) log[note.level](note.text);
  // What it resolved, once, and from where: the node name from BERTH_NODE or from Docker's engine name.
  log.info({ node_from: node.source, nats: config.NATS_URL, docker: config.DOCKER_HOST, host_ip: config.BERTH_HOST_IP ?? null }, "started");
  const deps = {
    docker,
    publish: eventPublisher(bus, log, signal, metrics),
    node: { name: nodeName, ...(config.BERTH_HOST_IP ? { hostIp: config.BERTH_HOST_IP } : {}) },
    labelPrefixes: labelPrefixes(config),
    log,
    signal,
    onDocker,
    tracer,
  };
  await Promise.all([watchDocker(deps), config.BERTH_RESYNC_SECONDS > 0 ? resyncEvery(deps, config.BERTH_RESYNC_SECONDS) : undefined]);
  await bus.drain();
  await tracer.shutdown();
  docker.close();
  await ops.server?.close();
  log.info("stopped");
});
