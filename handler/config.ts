import type { FromSchema } from "json-schema-to-ts";
import { readFileSync } from "node:fs";
import { COMMON_ENV, envSchema, readEnv, unreadable } from "../common/config.ts";
import { STREAM_ENV } from "../common/nats/index.ts";
import { DEFAULT_AGENT_TEMPLATE, checkAgentTemplate, parseAgentMap, type AgentDirectory } from "../consul/agents.ts";
import type { ConsulTls } from "../consul/client.ts";
import { MAPPING_ENV } from "../mapping/settings.ts";

const properties = {
  ...COMMON_ENV,
  ...STREAM_ENV,
  BERTH_CONSUL_AGENTS: {
    type: "string",
    description: "node=agent URL pairs, comma-separated; when set, events of other nodes are dead-lettered",
  },
  BERTH_CONSUL_AGENT_TEMPLATE: {
    type: "string",
    default: DEFAULT_AGENT_TEMPLATE,
    description: "agent URL for a node, {node} replaced by its name (used when BERTH_CONSUL_AGENTS is unset)",
  },
  CONSUL_HTTP_TOKEN: {
    type: "string",
    description: "Consul ACL token, sent as X-Consul-Token (an agent's own token=… in BERTH_CONSUL_AGENTS wins)",
  },
  CONSUL_CACERT: { type: "string", description: "path of the CA certificate(s) that signed the agents' HTTPS certificates (PEM)" },
  CONSUL_CLIENT_CERT: { type: "string", description: "path of a client certificate for HTTPS to agents (PEM, with CONSUL_CLIENT_KEY)" },
  CONSUL_CLIENT_KEY: { type: "string", description: "path of the client certificate's private key (PEM)" },
  BERTH_HANDLER_CONCURRENCY: {
    type: "integer",
    minimum: 1,
    maximum: 1024,
    default: 64,
    description: "messages one handler works on at once",
  },
  ...MAPPING_ENV,
} as const;

export type HandlerConfig = FromSchema<{ type: "object"; properties: typeof properties; additionalProperties: false }>;

export const handlerEnv = envSchema<HandlerConfig>("handler", properties);

export function loadHandlerConfig(env: NodeJS.ProcessEnv): Readonly<HandlerConfig> {
  return readEnv(handlerEnv, env, (c) => [
    ...(c.BERTH_CONSUL_AGENTS !== undefined ? checkAgentMap(c.BERTH_CONSUL_AGENTS) : checkAgentTemplate(c.BERTH_CONSUL_AGENT_TEMPLATE)),
    ...checkConsulTls(c),
  ]);
}

function checkAgentMap(text: string): string[] {
  const { agents, problems } = parseAgentMap(text);
  for (const [node, entry] of agents) {
    if (entry.token && "file" in entry.token) problems.push(...unreadable(`BERTH_CONSUL_AGENTS: token file of ${node}`, entry.token.file));
  }
  return problems;
}

function checkConsulTls(c: HandlerConfig): string[] {
  return [
    ...((c.CONSUL_CLIENT_CERT === undefined) !== (c.CONSUL_CLIENT_KEY === undefined)
      ? ["CONSUL_CLIENT_CERT and CONSUL_CLIENT_KEY go together"]
      : []),
    ...unreadable("CONSUL_CACERT", c.CONSUL_CACERT),
    ...unreadable("CONSUL_CLIENT_CERT", c.CONSUL_CLIENT_CERT),
    ...unreadable("CONSUL_CLIENT_KEY", c.CONSUL_CLIENT_KEY),
  ];
}

/** TLS material for HTTPS to agents, read once at start-up (undefined: the system's CAs, no client certificate). */
export function consulTls(c: HandlerConfig): ConsulTls | undefined {
  if (c.CONSUL_CACERT === undefined && c.CONSUL_CLIENT_CERT === undefined) return undefined;
  return {
    ...(c.CONSUL_CACERT !== undefined ? { ca: readFileSync(c.CONSUL_CACERT, "utf8") } : {}),
    ...(c.CONSUL_CLIENT_CERT !== undefined ? { cert: readFileSync(c.CONSUL_CLIENT_CERT, "utf8") } : {}),
    ...(c.CONSUL_CLIENT_KEY !== undefined ? { key: readFileSync(c.CONSUL_CLIENT_KEY, "utf8") } : {}),
  };
}

export function agentDirectory(config: HandlerConfig): AgentDirectory {
  if (config.BERTH_CONSUL_AGENTS === undefined) return { kind: "template", template: config.BERTH_CONSUL_AGENT_TEMPLATE };
  return { kind: "map", agents: parseAgentMap(config.BERTH_CONSUL_AGENTS).agents };
}

/** How the handler finds each node's agent, for its `started` line: each node's URL, or the template as written. */
export function describeAgents(directory: AgentDirectory): Record<string, unknown> {
  if (directory.kind === "template") return { agents_from: "BERTH_CONSUL_AGENT_TEMPLATE", agent_template: directory.template };
  return {
    agents_from: "BERTH_CONSUL_AGENTS",
    agents: Object.fromEntries([...directory.agents].map(([node, entry]) => [node, entry.url])),
  };
}
