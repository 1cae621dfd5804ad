// `berth explain <container>`: the bodies berth would PUT to /v1/agent/service/register for one
// container, read from Docker directly — no NATS, no Consul, nothing written. A composition root:
// flags and environment → settings → container-services.ts (the pipeline's own steps) → stdout.
import { parseArgs } from "node:util";
import { ConfigError } from "../common/config.ts";
import { loadEmitterHost } from "../emitter/config.ts";
import { dockerSource } from "../emitter/docker.ts";
import { sidecarIdOf } from "../mapping/connect.ts";
import { loadMappingSettings } from "./mapping-config.ts";
import { SchemaError } from "../schemas/index.ts";
import { containerServices } from "./container-services.ts";
import { CliError, runCli } from "./run.ts";

const USAGE = `usage: berth explain <container> [--internal] [--explicit] [--host-ip IP] [--node NAME]
         [--network NET] [--tags a,b] [--deregister always|on-success] [--name-from image|compose]
         [--name-suffix auto|always|never] [--address-family ipv4|ipv6]

Prints the JSON array of bodies berth would PUT to /v1/agent/service/register for <container>
(name or ID) of the Docker engine at DOCKER_HOST, and on stderr why each skipped port is skipped.
Each flag overrides the environment variable the emitter or handler reads for it:
  --internal BERTH_INTERNAL  --explicit BERTH_EXPLICIT  --host-ip BERTH_HOST_IP  --node BERTH_NODE
  --network BERTH_NETWORK    --tags BERTH_TAGS          --deregister BERTH_DEREGISTER
  --name-from BERTH_NAME_FROM   --name-suffix BERTH_NAME_SUFFIX   --address-family BERTH_ADDRESS_FAMILY
A Connect sidecar the agent will create for a service is named on stderr.
`;

const FLAGS = {
  internal: { type: "boolean", env: "BERTH_INTERNAL" },
  explicit: { type: "boolean", env: "BERTH_EXPLICIT" },
  "host-ip": { type: "string", env: "BERTH_HOST_IP" },
  node: { type: "string", env: "BERTH_NODE" },
  network: { type: "string", env: "BERTH_NETWORK" },
  tags: { type: "string", env: "BERTH_TAGS" },
  deregister: { type: "string", env: "BERTH_DEREGISTER" },
  "name-from": { type: "string", env: "BERTH_NAME_FROM" },
  "name-suffix": { type: "string", env: "BERTH_NAME_SUFFIX" },
  "address-family": { type: "string", env: "BERTH_ADDRESS_FAMILY" },
  help: { type: "boolean", short: "h", env: "" },
} as const;

/** The environment with each given flag written over its variable. */
function effectiveEnv(argv: string[], env: NodeJS.ProcessEnv): { container: string; env: NodeJS.ProcessEnv } {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: FLAGS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n${USAGE}`, 2);
  }
  if (parsed.values.help) throw new CliError(USAGE, 0);
  const [container, ...extra] = parsed.positionals;
  if (container === undefined || extra.length > 0) throw new CliError(`expected exactly one container\n${USAGE}`, 2);
  const merged = { ...env };
  for (const [flag, value] of Object.entries(parsed.values)) {
    const name: string = FLAGS[flag as keyof typeof FLAGS].env;
    if (name !== "") merged[name] = String(value);
  }
  return { container, env: merged };
}

/** Problems of a ConfigError, kept; anything else thrown. */
function attempt<T>(load: () => T, problems: string[]): T | undefined {
  try {
    return load();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
    return undefined;
  }
}

/** The emitter's Docker engine and node (read by the emitter's own rules) and the mapping settings, every problem listed at once. */
function readSettings(env: NodeJS.ProcessEnv) {
  const problems: string[] = [];
  const host = attempt(() => loadEmitterHost(env), problems);
  const settings = attempt(() => loadMappingSettings(env), problems);
  if (!host || !settings) throw new CliError(new ConfigError(problems).message, 2);
  return { host, options: { settings, hostIp: host.BERTH_HOST_IP, node: host.BERTH_NODE } };
}

async function explain(argv: string[], env: NodeJS.ProcessEnv, warn: (line: string) => void): Promise<unknown[]> {
  const given = effectiveEnv(argv, env);
  const { host, options } = readSettings(given.env);
  const docker = dockerSource(host.DOCKER_HOST, { certPath: host.DOCKER_CERT_PATH, verify: host.DOCKER_TLS_VERIFY });
  let found;
  try {
    found = await containerServices(docker, given.container, options);
  } catch (err) {
    if (!(err instanceof SchemaError)) throw err;
    throw new CliError(`the handler would dead-letter this container's event:\n  ${err.problems.join("\n  ")}`, 1);
  }
  if (!found) throw new CliError(`no such container: ${given.container}`, 1);
  for (const d of found.dropped) warn(`warning: ${d.key} is not shared by the emitter: ${d.reason}`);
  for (const s of found.mapping.skipped) warn(`skipped ${s.port ?? "container"}: ${s.reason}`);
  for (const w of found.mapping.warnings) warn(`warning: ${w}`);
  for (const s of found.mapping.services.filter((s) => s.Connect?.SidecarService)) {
    warn(`sidecar: the agent creates ${sidecarIdOf(s.ID)} (connect-proxy) for ${s.ID}, and removes it with it`);
  }
  return found.mapping.services;
}

await runCli("explain", async () => {
  const services = await explain(process.argv.slice(2), process.env, (line) => void process.stderr.write(`${line}\n`));
  return `${JSON.stringify(services, null, 2)}\n`;
});
