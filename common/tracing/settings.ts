// OpenTelemetry's standard variables, as far as berth reads them. Tracing is on only when an OTLP
// endpoint is named (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT) and not
// turned off (OTEL_SDK_DISABLED=true, OTEL_TRACES_EXPORTER=none): otherwise nothing is loaded.
import { ConfigError } from "../config.ts";

export type Sampler = { parentBased: boolean; ratio: number };

export type TracingSettings = {
  /** Where spans are POSTed, `/v1/traces` included. */
  endpoint: URL;
  headers: Record<string, string>;
  /** service.name and the other resource attributes. */
  resource: Record<string, string>;
  sampler: Sampler;
  scheduleDelayMs: number;
  maxQueueSize: number;
  maxExportBatchSize: number;
  timeoutMs: number;
};

type Env = Record<string, string | undefined>;

const SAMPLERS: Record<string, Sampler | "ratio"> = {
  always_on: { parentBased: false, ratio: 1 },
  always_off: { parentBased: false, ratio: 0 },
  traceidratio: "ratio",
  parentbased_always_on: { parentBased: true, ratio: 1 },
  parentbased_always_off: { parentBased: true, ratio: 0 },
  parentbased_traceidratio: "ratio",
};

/** `k1=v1,k2=v2`, values percent-encoded (OTEL_EXPORTER_OTLP_HEADERS, OTEL_RESOURCE_ATTRIBUTES). */
function keyValues(name: string, text: string | undefined, problems: string[]): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const item of (text ?? "").split(",").filter((s) => s.trim() !== "")) {
    const eq = item.indexOf("=");
    if (eq <= 0) {
      problems.push(`${name}: "${item.trim()}" is not key=value (write k1=v1,k2=v2)`);
      continue;
    }
    try {
      pairs[decodeURIComponent(item.slice(0, eq).trim())] = decodeURIComponent(item.slice(eq + 1).trim());
    } catch {
      problems.push(`${name}: "${item.trim()}" is not percent-encoded correctly`);
    }
  }
  return pairs;
}

function whole(env: Env, name: string, fallback: number, min: number, problems: string[]): number {
  const text = env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) problems.push(`${name}: "${text}" is not a whole number ≥ ${min}`);
  return value;
}

function endpointOf(env: Env, problems: string[]): URL | undefined {
  const traces = env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"];
  const base = env["OTEL_EXPORTER_OTLP_ENDPOINT"];
  const [name, text] = traces ? ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", traces] : ["OTEL_EXPORTER_OTLP_ENDPOINT", base];
  if (!text) return undefined;
  try {
    const url = new URL(text);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("not http");
    // The signal's own variable is used as it is; the base one gets the signal's path (OTLP/HTTP's rule).
    return traces ? url : new URL(`${url.pathname.replace(/\/$/, "")}/v1/traces`, url);
  } catch {
    problems.push(`${name}: "${text}" is not an http:// or https:// URL (e.g. http://otel-collector:4318)`);
    return undefined;
  }
}

function samplerOf(env: Env, problems: string[]): Sampler {
  const name = env["OTEL_TRACES_SAMPLER"] || "parentbased_always_on";
  const sampler = SAMPLERS[name];
  if (sampler === undefined) {
    problems.push(`OTEL_TRACES_SAMPLER: "${name}" is not one of ${Object.keys(SAMPLERS).join(", ")}`);
    return { parentBased: true, ratio: 1 };
  }
  if (sampler !== "ratio") return sampler;
  const arg = env["OTEL_TRACES_SAMPLER_ARG"] ?? "1";
  const ratio = Number(arg);
  if (!(ratio >= 0 && ratio <= 1)) problems.push(`OTEL_TRACES_SAMPLER_ARG: "${arg}" is not a ratio between 0 and 1`);
  return { parentBased: name.startsWith("parentbased"), ratio };
}

/** The settings, or undefined when tracing is off; a ConfigError lists every problem found. */
export function tracingSettings(env: Env, defaultService: string): TracingSettings | undefined {
  if (env["OTEL_SDK_DISABLED"]?.trim().toLowerCase() === "true") return undefined;
  const exporter = env["OTEL_TRACES_EXPORTER"]?.trim() || "otlp";
  if (exporter === "none") return undefined;
  const problems: string[] = [];
  const endpoint = endpointOf(env, problems);
  if (!endpoint && problems.length === 0) return undefined;
  if (exporter !== "otlp") problems.push(`OTEL_TRACES_EXPORTER: "${exporter}": berth exports only otlp (or none)`);
  const protocol = env["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] || env["OTEL_EXPORTER_OTLP_PROTOCOL"] || "http/json";
  if (protocol !== "http/json")
    problems.push(`OTEL_EXPORTER_OTLP_PROTOCOL: "${protocol}": berth sends OTLP over HTTP as JSON: set http/json or leave it unset`);
  const headers = keyValues("OTEL_EXPORTER_OTLP_HEADERS", env["OTEL_EXPORTER_OTLP_HEADERS"], problems);
  Object.assign(headers, keyValues("OTEL_EXPORTER_OTLP_TRACES_HEADERS", env["OTEL_EXPORTER_OTLP_TRACES_HEADERS"], problems));
  const resource = {
    "service.name": defaultService,
    ...keyValues("OTEL_RESOURCE_ATTRIBUTES", env["OTEL_RESOURCE_ATTRIBUTES"], problems),
    ...(env["OTEL_SERVICE_NAME"] ? { "service.name": env["OTEL_SERVICE_NAME"] } : {}),
  };
  const settings = {
    endpoint: endpoint!,
    headers,
    resource,
    sampler: samplerOf(env, problems),
    scheduleDelayMs: whole(env, "OTEL_BSP_SCHEDULE_DELAY", 5_000, 1, problems),
    maxQueueSize: whole(env, "OTEL_BSP_MAX_QUEUE_SIZE", 2_048, 1, problems),
    maxExportBatchSize: whole(env, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512, 1, problems),
    timeoutMs: whole(env, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", whole(env, "OTEL_EXPORTER_OTLP_TIMEOUT", 10_000, 1, problems), 1, problems),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return settings;
}
