// Structured logs: one JSON object per line on stdout — `level`, `time` (epoch ms), `svc`, the
// process's fields, the call's fields, `msg` — or, for people at a terminal, a readable line
// (common/log-pretty.ts). Written here rather than with a logging library: berth needs levels,
// fields and censoring, and a library cost each process ~7 MB of memory (bench/README.md).
import { prettyLine } from "./log-pretty.ts";
import { redactText } from "./redact.ts";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
type Level = Exclude<LogLevel, "silent">;

const RANK: Record<LogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

/** `log.info({ node }, "applied")` or `log.info("stopped")`. */
export type LogFn = (fieldsOrMessage: Record<string, unknown> | string, message?: string) => void;
export type Logger = Record<Level, LogFn>;

/** Field names whose values are secrets wherever they appear in a log line. */
const SECRET_FIELDS = new Set(["token", "password", "authorization", "x-consul-token"]);
const CENSOR = "[redacted]";

/** JSON.stringify's replacer: secrets by field name censored, errors as their name, message and stack. */
function replacer(key: string, value: unknown): unknown {
  if (SECRET_FIELDS.has(key.toLowerCase())) return CENSOR;
  if (value instanceof Error) return { type: value.name, message: value.message, ...(value.stack ? { stack: value.stack } : {}) };
  if (typeof value === "bigint") return value.toString();
  return value;
}

/** A duration in milliseconds as a log field: to the hundredth (the step timings at debug level). */
export const logMs = (ms: number): number => Math.round(ms * 100) / 100;

export const LOG_FORMATS = ["auto", "json", "pretty"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** `auto`: readable lines when stdout is a terminal, JSON lines otherwise (pipes, files, log shippers). */
export function isPretty(format: LogFormat, stream: { isTTY?: boolean } = process.stdout): boolean {
  return format === "pretty" || (format === "auto" && stream.isTTY === true);
}

export function createLogger(
  svc: string,
  level: LogLevel,
  fields: Record<string, string> = {},
  format: LogFormat = "json",
  out: { write(line: string): unknown } = process.stdout,
): Logger {
  const pretty = isPretty(format);
  const colour = pretty && process.stdout.isTTY;
  const base = JSON.stringify({ svc, ...fields }, replacer).slice(1, -1);
  const threshold = RANK[level];
  const at = (name: Level): LogFn => {
    const head = `{"level":"${name}","time":`;
    return (fieldsOrMessage, message) => {
      if (RANK[name] < threshold) return;
      const own = typeof fieldsOrMessage === "string" ? "" : JSON.stringify(fieldsOrMessage, replacer).slice(1, -1);
      const msg = typeof fieldsOrMessage === "string" ? fieldsOrMessage : (message ?? "");
      const line = `${head}${Date.now()},${base}${own === "" ? "" : `,${own}`},"msg":${JSON.stringify(msg)}}\n`;
      // Field names catch `token: …`; the whole line is censored too, for a secret or a URL with
      // credentials inside a message, an error text or any other field (common/redact.ts).
      const censored = redactText(line);
      out.write(pretty ? prettyLine(censored, colour) : censored);
    };
  };
  return { fatal: at("fatal"), error: at("error"), warn: at("warn"), info: at("info"), debug: at("debug"), trace: at("trace") };
}
