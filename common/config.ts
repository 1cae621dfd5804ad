import { configAjv, describeErrors, type ValidateFunction } from "./ajv.ts";
import { LOG_LEVELS } from "./log.ts";
import { DEFAULT_PREFIX } from "../schemas/index.ts";

/** A configuration problem found at start-up; `problems` lists every one of them. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly code = "E_CONFIG";
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
  }
}

/** Variables both processes read. Each has a description; defaults live here and nowhere else. */
export const COMMON_ENV = {
  NATS_URL: {
    type: "string",
    default: "nats://127.0.0.1:4222",
    pattern: "^(nats|tls)://[^\\s,]+(,(nats|tls)://[^\\s,]+)*$",
    description: "NATS server URL(s), comma-separated",
  },
  NATS_USER: { type: "string", description: "NATS user name (with NATS_PASSWORD)" },
  NATS_PASSWORD: { type: "string", description: "NATS password" },
  NATS_TOKEN: { type: "string", description: "NATS authentication token" },
  BERTH_PREFIX: {
    type: "string",
    default: DEFAULT_PREFIX,
    pattern: "^[a-z][a-z0-9_-]{0,31}$",
    description: "first token of every subject; lets several installations share one NATS",
  },
  LOG_LEVEL: { enum: LOG_LEVELS, default: "info", description: "pino log level" },
} as const;

/**
 * Reads the declared variables from `env` (empty counts as unset), coerces and fills defaults
 * with ajv, then runs `check` for rules a schema cannot say. Throws one ConfigError listing all.
 */
export function readEnv<T extends object>(
  validate: ValidateFunction<T>,
  keys: readonly string[],
  env: NodeJS.ProcessEnv,
  check: (config: T) => string[] = () => [],
): Readonly<T> {
  const picked: Record<string, string> = {};
  for (const key of keys) {
    const value = env[key];
    if (value !== undefined && value !== "") picked[key] = value;
  }
  const valid = validate(picked);
  // The extra rules read only string-valued keys, so they run even when the schema failed:
  // the operator sees every problem at once.
  const problems = [...(valid ? [] : describeErrors(validate.errors, "env").map((p) => p.replace("env/", ""))), ...check(picked as T)];
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(picked as T);
}

export function compileEnvSchema<T>(properties: Record<string, object>): ValidateFunction<T> {
  return configAjv.compile<T>({ type: "object", properties, additionalProperties: false });
}
