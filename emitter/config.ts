import type { FromSchema } from "json-schema-to-ts";
import { isIP } from "node:net";
import { COMMON_ENV, envSchema, readEnv } from "../common/config.ts";
import { STREAM_ENV } from "../common/nats/index.ts";
import { NODE_NAME_PATTERN } from "../schemas/index.ts";

/**
 * Where the emitter's Docker engine is and which node it speaks for: what `berth explain` reads
 * the same way (loadEmitterHost) without the rest of the emitter's configuration.
 */
const HOST_ENV = {
  DOCKER_HOST: {
    type: "string",
    default: "unix:///var/run/docker.sock",
    pattern: "^(unix|tcp|http|https)://",
    description: "Docker engine to watch",
  },
  DOCKER_CERT_PATH: {
    type: "string",
    description: "directory of ca.pem, cert.pem and key.pem for a Docker engine over TLS (as the docker CLI reads it)",
  },
  DOCKER_TLS_VERIFY: {
    type: "boolean",
    default: false,
    description: "tcp:// DOCKER_HOST speaks TLS, verified with DOCKER_CERT_PATH (as the docker CLI reads it)",
  },
  BERTH_NODE: {
    type: "string",
    pattern: NODE_NAME_PATTERN,
    description: "this host's node name in Consul; default: the Docker engine's name",
  },
  BERTH_HOST_IP: { type: "string", description: "address advertised for published ports; default: the Consul agent's node address" },
} as const;

const properties = {
  ...COMMON_ENV,
  ...STREAM_ENV,
  ...HOST_ENV,
  BERTH_LABEL_PREFIXES: {
    type: "string",
    default: "",
    description: "comma-separated label prefixes shared besides SERVICE_* and com.docker.compose.*",
  },
  BERTH_RESYNC_SECONDS: {
    type: "integer",
    minimum: 0,
    maximum: 86400,
    default: 60,
    description: "seconds between node snapshots that let handlers reconcile each agent; 0: only at start-up",
  },
} as const;

export type EmitterConfig = FromSchema<{ type: "object"; properties: typeof properties; additionalProperties: false }>;
export type EmitterHostConfig = FromSchema<{ type: "object"; properties: typeof HOST_ENV; additionalProperties: false }>;

export const emitterEnv = envSchema<EmitterConfig>("emitter", properties);
const hostEnv = envSchema<EmitterHostConfig>("emitterHost", HOST_ENV);

/** The rule a schema cannot say. */
const checkHost = (c: EmitterHostConfig): string[] =>
  c.BERTH_HOST_IP !== undefined && isIP(c.BERTH_HOST_IP) === 0 ? [`BERTH_HOST_IP must be an IP address, not "${c.BERTH_HOST_IP}"`] : [];

export function loadEmitterConfig(env: NodeJS.ProcessEnv): Readonly<EmitterConfig> {
  return readEnv(emitterEnv, env, checkHost);
}

/** Only the Docker engine and node variables, checked exactly as loadEmitterConfig checks them. */
export function loadEmitterHost(env: NodeJS.ProcessEnv): Readonly<EmitterHostConfig> {
  return readEnv(hostEnv, env, checkHost);
}

export function labelPrefixes(config: EmitterConfig): string[] {
  return config.BERTH_LABEL_PREFIXES.split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "");
}
