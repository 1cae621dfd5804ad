// `berth status [--json]`: the pipeline at a glance, read-only — nodes (last event, last snapshot,
// running containers, berth-owned services, drift, whether their changes wait for their agent and
// why), the stream and the consumer's lag, dead letters.
// Configured like a handler (the same environment), so it sees the agents the handlers see.
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { ConfigError } from "../common/config.ts";
import { connectBus } from "../common/nats/index.ts";
import { redactText } from "../common/redact.ts";
import { agentPool } from "../consul/agent-pool.ts";
import { agentDirectory, consulTls, loadHandlerConfig } from "../handler/config.ts";
import { mappingSettings } from "../mapping/settings.ts";
import { formatStatus } from "./status-format.ts";
import { statusReport } from "./status-report.ts";
import { CliError, runCli } from "./run.ts";

const USAGE = `usage: berth status [--json] [--last N]

Prints berth's state without changing anything: per node the newest event and snapshot, running
containers, berth-owned services in its agent and the drift between them, and whether its changes
wait for its agent (since when, and why); the event stream and the handlers' consumer lag; dead
letters by reason and the last N (default 5).
Reads the handler's environment: NATS_URL (and NATS credentials), BERTH_PREFIX,
BERTH_CONSUL_AGENTS or BERTH_CONSUL_AGENT_TEMPLATE, CONSUL_HTTP_TOKEN, the mapping settings.
Exit codes: 0 printed, 1 NATS or berth's streams could not be read, 2 bad arguments or settings.
`;

const CONNECT_TIMEOUT_MS = 5_000;

function readArgs(argv: string[]): { json: boolean; last: number } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { json: { type: "boolean" }, last: { type: "string" }, help: { type: "boolean", short: "h" } },
      strict: true,
    });
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n${USAGE}`, 2);
  }
  if (parsed.values.help) throw new CliError(USAGE, 0);
  const last = Number(parsed.values.last ?? 5);
  if (!Number.isInteger(last) || last < 0 || last > 1000) throw new CliError(`--last must be an integer from 0 to 1000\n${USAGE}`, 2);
  return { json: parsed.values.json === true, last };
}

async function status(argv: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const args = readArgs(argv);
  let config;
  try {
    config = loadHandlerConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, 2);
    throw err;
  }
  const directory = agentDirectory(config);
  const agents = agentPool(directory, config.CONSUL_HTTP_TOKEN, consulTls(config));
  const waited = new AbortController();
  const timeout = sleep(CONNECT_TIMEOUT_MS, undefined, { signal: waited.signal }).then(() => {
    throw new CliError(`NATS at ${config.NATS_URL} did not answer within ${CONNECT_TIMEOUT_MS / 1000} s`, 1);
  });
  timeout.catch(() => undefined);
  const bus = await Promise.race([connectBus(config, "berth-status"), timeout]);
  waited.abort();
  try {
    const report = await statusReport({
      bus,
      agentFor: agents.agentFor,
      configuredNodes: directory.kind === "map" ? [...directory.agents.keys()] : [],
      mapping: mappingSettings(config),
      lastDeadLetters: args.last,
    }).catch((err: unknown) => {
      throw new CliError(
        `cannot read berth's streams (prefix ${config.BERTH_PREFIX}; has an emitter or handler started?): ${(err as Error).message}`,
        1,
      );
    });
    return args.json ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report);
  } finally {
    await bus.drain().catch(() => undefined);
    await agents.closeAll();
  }
}

await runCli("status", () => status(process.argv.slice(2), process.env), redactText);
