import { runMain } from "../common/main.ts";
import { createLogger } from "../common/log.ts";
import { connectBus, consumerLag, ensureJetStream, openStateBucket, pullEvents, watchConnection } from "../common/nats.ts";
import { startOps } from "../common/ops-server.ts";
import { addConsumerLag, handlerMetrics } from "./metrics.ts";
import { agentPool } from "./agent-pool.ts";
import { agentDirectory, consulTls, loadHandlerConfig } from "./config.ts";
import { consumeLoop } from "./consume.ts";
import { deadLetter } from "./dead-letter.ts";
import { mappingSettings } from "./settings.ts";

runMain("handler", async (signal) => {
  const config = loadHandlerConfig(process.env);
  const log = createLogger("handler", config.LOG_LEVEL, { worker: String(process.pid) }, config.LOG_FORMAT);
  let natsUp = () => false;
  let bound = false;
  const ops = await startOps(config, () => ({ nats: natsUp(), consumer: bound }));
  if (ops.server) log.info({ port: ops.server.port }, "metrics listening");
  const metrics = handlerMetrics(ops.registry);
  const directory = agentDirectory(config);
  const agents = agentPool(directory, config.CONSUL_HTTP_TOKEN, consulTls(config));
  const agentFor = agents.agentFor;

  const bus = await connectBus(config, "berth-handler");
  await ensureJetStream(bus);
  natsUp = watchConnection(bus);
  addConsumerLag(ops.registry, () => consumerLag(bus));
  const bucket = await openStateBucket(bus);
  log.info({ nats: config.NATS_URL, agents: directory.kind, concurrency: config.BERTH_HANDLER_CONCURRENCY }, "started");
  const deps = {
    prefix: bus.prefix,
    bucket,
    agentFor,
    deadLetter: deadLetter.bind(null, bus),
    log,
    mapping: mappingSettings(config),
    metrics,
  };
  const messages = pullEvents(bus, config.BERTH_HANDLER_CONCURRENCY * 2, signal, (b) => (bound = b));
  await consumeLoop(deps, messages, config.BERTH_HANDLER_CONCURRENCY);
  await bus.drain();
  await agents.closeAll();
  await ops.server?.close();
  log.info("stopped");
});
