import { runMain } from "../common/main.ts";
import { strangerVariables } from "../common/env-names.ts";
import { createLogger } from "../common/log.ts";
import {
  connectBus,
  consumerLag,
  ensureJetStream,
  openStateBucket,
  pullMessages,
  streamSettings,
  waitingNodes,
  watchConnection,
} from "../common/nats/index.ts";
import { startOps } from "../common/ops-server.ts";
import { loadTracer } from "../common/tracing/index.ts";
import { streamNames } from "../schemas/index.ts";
import { addConsumerLag, addWaitingNodes, handlerMetrics } from "./metrics.ts";
import { agentPool } from "../consul/agent-pool.ts";
import { agentDirectory, consulTls, describeAgents, loadHandlerConfig } from "./config.ts";
import { consumeLoop, handleMessage, type HandlerDeps } from "./consume.ts";
import { deadLetter } from "./dead-letter.ts";
import { nodeGate } from "./node-gate.ts";
import { unknownFieldsNoter } from "./unknown-fields.ts";
import { repairHandler, repairRequester } from "./repair-requests.ts";
import { mappingSettings } from "../mapping/settings.ts";

/** Repairs one handler works on at once (each is one node's, one at a time per node). */
const REPAIR_CONCURRENCY = 8;

runMain("handler", async (signal) => {
  const config = loadHandlerConfig(process.env);
  const log = createLogger("handler", config.LOG_LEVEL, { worker: String(process.pid) }, config.LOG_FORMAT);
  signal.addEventListener("abort", () => {
    log.info({ signal: String(signal.reason) }, "draining");
  });
  for (const stranger of strangerVariables(process.env)) log.warn({ variable: stranger.variable }, stranger.text);
  let natsUp = () => false;
  let bound = false;
  const ops = await startOps(config, () => ({ nats: natsUp(), consumer: bound }));
  if (ops.server) log.info({ port: ops.server.port }, "metrics listening");
  const metrics = handlerMetrics(ops.registry);
  const tracer = await loadTracer(process.env, "berth-handler", (text) => {
    log.warn(text);
  });
  const directory = agentDirectory(config);
  const agents = agentPool(directory, config.CONSUL_HTTP_TOKEN, consulTls(config));

  const bus = await connectBus(config, "berth-handler", { log, signal });
  for (const note of await ensureJetStream(bus, streamSettings(config, process.env), { log, signal })) log[note.level](note.text);
  natsUp = watchConnection(bus, log);
  addConsumerLag(ops.registry, () => consumerLag(bus));
  addWaitingNodes(ops.registry, () => waitingNodes(bus));
  const bucket = await openStateBucket(bus);
  // What it resolved, once: the agent of each node (BERTH_CONSUL_AGENTS), or the template that makes it.
  log.info({ nats: config.NATS_URL, ...describeAgents(directory), concurrency: config.BERTH_HANDLER_CONCURRENCY }, "started");
  const deps: HandlerDeps = {
    prefix: bus.prefix,
    bucket,
    agentFor: agents.agentFor,
    deadLetter: deadLetter.bind(null, bus),
    requestRepair: repairRequester(bus),
    gate: nodeGate(),
    log,
    mapping: mappingSettings(config),
    metrics,
    onUnknown: unknownFieldsNoter(log, metrics),
    tracer,
  };
  const names = streamNames(bus.prefix);
  const events = pullMessages(
    bus,
    { stream: names.events, consumer: names.consumer },
    config.BERTH_HANDLER_CONCURRENCY * 2,
    signal,
    (b) => (bound = b),
  );
  const repairs = pullMessages(bus, { stream: names.repairs, consumer: names.repairConsumer }, REPAIR_CONCURRENCY, signal);
  await Promise.all([
    consumeLoop(events, config.BERTH_HANDLER_CONCURRENCY, (m) => handleMessage(deps, m)),
    consumeLoop(repairs, REPAIR_CONCURRENCY, repairHandler(deps)),
  ]);
  await bus.drain();
  await tracer.shutdown();
  await agents.closeAll();
  await ops.server?.close();
  log.info("stopped");
});
