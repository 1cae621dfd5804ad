import type { FromSchema } from "json-schema-to-ts";
import { COMMON_ENV, compileEnvSchema, readEnv } from "../common/config.ts";
import { DEFAULT_AGENT_TEMPLATE, checkAgentTemplate, parseAgentMap, type AgentDirectory } from "./agents.ts";
import { MAPPING_ENV } from "./settings.ts";

const properties = {
  ...COMMON_ENV,
  BERTH_CONSUL_AGENTS: {
    type: "string",
    description: "node=agent URL pairs, comma-separated; when set, events of other nodes are dead-lettered",
  },
  BERTH_CONSUL_AGENT_TEMPLATE: {
    type: "string",
    default: DEFAULT_AGENT_TEMPLATE,
    description: "agent URL for a node, {node} replaced by its name (used when BERTH_CONSUL_AGENTS is unset)",
  },
  CONSUL_HTTP_TOKEN: { type: "string", description: "Consul ACL token, sent as X-Consul-Token" },
  BERTH_HANDLER_CONCURRENCY: {
    type: "integer",
    minimum: 1,
    maximum: 1024,
    default: 64,
    description: "messages one handler works on at once",
  },
  ...MAPPING_ENV,
} as const;

const schema = { type: "object", properties, additionalProperties: false } as const;
export type HandlerConfig = FromSchema<typeof schema>;

const validate = compileEnvSchema<HandlerConfig>(properties);

export function loadHandlerConfig(env: NodeJS.ProcessEnv): Readonly<HandlerConfig> {
  return readEnv(validate, Object.keys(properties), env, (c) =>
    c.BERTH_CONSUL_AGENTS !== undefined ? parseAgentMap(c.BERTH_CONSUL_AGENTS).problems : checkAgentTemplate(c.BERTH_CONSUL_AGENT_TEMPLATE),
  );
}

export function agentDirectory(config: HandlerConfig): AgentDirectory {
  return config.BERTH_CONSUL_AGENTS !== undefined
    ? { kind: "map", agents: parseAgentMap(config.BERTH_CONSUL_AGENTS).agents }
    : { kind: "template", template: config.BERTH_CONSUL_AGENT_TEMPLATE };
}
