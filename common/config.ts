import { accessSync, constants } from "node:fs";
import type { ErrorObject, ValidateFunction } from "../schemas/ajv.ts";
import { clipProblems } from "../schemas/errors.ts";
import * as compiled from "./env-validators.generated.ts";
import { redactText, registerSecret } from "./redact.ts";
import { LOG_FORMATS, LOG_LEVELS } from "./log.ts";
import { DEFAULT_PREFIX, PREFIX_PATTERN } from "../schemas/index.ts";

/** A configuration problem found at start-up; `problems` lists every one of them. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly code = "E_CONFIG";
  readonly problems: string[];
  constructor(problems: string[]) {
    const redacted = problems.map(redactText);
    super(`invalid configuration:\n  - ${redacted.join("\n  - ")}`);
    this.problems = redacted;
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
  NATS_CREDS: { type: "string", description: "path of a NATS credentials file (user JWT and nkey seed)" },
  NATS_NKEY: { type: "string", description: "path of a file holding a NATS user nkey seed (SU…)" },
  NATS_CA: { type: "string", description: "path of the CA certificate(s) that signed the NATS server's certificate (PEM); turns TLS on" },
  NATS_CERT: { type: "string", description: "path of a client certificate for NATS TLS (PEM, with NATS_KEY)" },
  NATS_KEY: { type: "string", description: "path of the client certificate's private key (PEM)" },
  BERTH_PREFIX: {
    type: "string",
    default: DEFAULT_PREFIX,
    pattern: PREFIX_PATTERN,
    description: "first token of every subject; lets several installations share one NATS",
  },
  LOG_LEVEL: { enum: LOG_LEVELS, default: "info", description: "the least severe level logged" },
  LOG_FORMAT: {
    enum: LOG_FORMATS,
    default: "auto",
    description: "json: one JSON object per line; pretty: readable lines for people; auto: pretty when stdout is a terminal",
  },
  BERTH_METRICS_PORT: {
    type: "integer",
    minimum: 0,
    maximum: 65535,
    description: "port of /metrics (Prometheus), /healthz and /readyz; unset: no server (0: any free port)",
  },
  BERTH_METRICS_ADDRESS: {
    type: "string",
    default: "0.0.0.0",
    pattern: "^[0-9A-Fa-f.:]+$",
    description: "IP address the metrics server listens on (127.0.0.1 keeps it to this host)",
  },
} as const;

const SECRET_KEY = /(_PASSWORD|_TOKEN)$/;

/** Variables some part of berth reads, declared once: `T` is the configuration they make. */
export type EnvSchema<T> = {
  readonly name: string;
  readonly properties: Readonly<Record<string, object>>;
  /** Never set: it carries `T`, the configuration readEnv returns. */
  readonly config?: T;
};

/** Every declared EnvSchema by name: their validators are compiled ahead of time (write-env-validators.ts). */
export const ENV_SCHEMAS = new Map<string, Readonly<Record<string, object>>>();

export function envSchema<T>(name: string, properties: Readonly<Record<string, object>>): EnvSchema<T> {
  ENV_SCHEMAS.set(name, properties);
  return { name, properties };
}

function validatorOf<T>(schema: EnvSchema<T>): ValidateFunction<T> {
  const validate = (compiled as Record<string, unknown>)[schema.name];
  if (typeof validate !== "function") throw new Error(`no compiled validator for ${schema.name}: run npm run schemas:write`);
  return validate as ValidateFunction<T>;
}

/**
 * Reads the declared variables from `env` (empty counts as unset), coerces and fills defaults
 * by the schema, then runs `check` for rules a schema cannot say. Throws one ConfigError listing all.
 */
export function readEnv<T extends object>(
  schema: EnvSchema<T>,
  env: NodeJS.ProcessEnv,
  check: (config: T) => string[] = () => [],
): Readonly<T> {
  const validate = validatorOf(schema);
  const picked: Record<string, string> = {};
  for (const [key, property] of Object.entries(schema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== "") picked[key] = caseOfEnum(value, property);
    // NATS_PASSWORD, NATS_TOKEN, CONSUL_HTTP_TOKEN …: censored in every line this process prints.
    if (SECRET_KEY.test(key)) registerSecret(value);
  }
  const written = { ...picked }; // the validator coerces in place: problems quote what the user wrote
  const valid = validate(picked);
  // The extra rules read only string-valued keys, so they run even when the schema failed:
  // the operator sees every problem at once.
  const problems = [
    ...(valid ? [] : clipProblems((validate.errors ?? []).map((e) => envProblem(e, schema.properties, written)))),
    ...checkNatsAuth(picked),
    ...check(picked as T),
  ];
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(picked as T);
}

/** An enum's value in any case (LOG_LEVEL=DEBUG): the enum's own spelling when it matches but for case. */
function caseOfEnum(value: string, property: object): string {
  const allowed = (property as { enum?: readonly unknown[] }).enum;
  return (allowed?.find((a) => typeof a === "string" && a.toLowerCase() === value.toLowerCase()) as string | undefined) ?? value;
}

/** One problem: the variable, what it must be (an enum's values listed), and the value as written. */
function envProblem(e: ErrorObject, properties: Readonly<Record<string, object>>, written: Record<string, string>): string {
  const key = e.instancePath.slice(1);
  const allowed = (properties[key] as { enum?: readonly unknown[] } | undefined)?.enum;
  const rule = e.keyword === "enum" && allowed ? `must be one of ${allowed.join(", ")}` : (e.message ?? e.keyword);
  const value = written[key];
  return `${key || "/"} ${rule}${value !== undefined ? `, not "${value}"` : ""}`;
}

/** One way to authenticate to NATS at a time, and every file named must be readable (its content is never printed). */
function checkNatsAuth(env: Record<string, string>): string[] {
  const problems: string[] = [];
  const ways = ["NATS_USER", "NATS_TOKEN", "NATS_CREDS", "NATS_NKEY"].filter((k) => env[k] !== undefined);
  if (ways.length > 1) problems.push(`${ways.join(", ")}: set only one way to authenticate to NATS`);
  if (env["NATS_PASSWORD"] !== undefined && env["NATS_USER"] === undefined) problems.push("NATS_PASSWORD needs NATS_USER");
  if ((env["NATS_CERT"] === undefined) !== (env["NATS_KEY"] === undefined)) problems.push("NATS_CERT and NATS_KEY go together");
  for (const key of ["NATS_CREDS", "NATS_NKEY", "NATS_CA", "NATS_CERT", "NATS_KEY"]) problems.push(...unreadable(key, env[key]));
  return problems;
}

/** `[problem]` when the file at `path` cannot be read by this process; its content is never printed. */
export function unreadable(what: string, path: string | undefined): string[] {
  if (path === undefined) return [];
  try {
    accessSync(path, constants.R_OK);
    return [];
  } catch (err) {
    return [`${what}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? "error"})`];
  }
}
