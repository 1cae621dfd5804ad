// The only file that imports pino. JSON lines on stdout: `time`, `level`, `svc`, `msg`, then fields.
import { pino, type Logger } from "pino";
import { prettyLine } from "./log-pretty.ts";
import { redactText } from "./redact.ts";

export type { Logger };
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** Field names whose values are secrets wherever they appear in a log line. */
const REDACT = ["token", "password", "*.token", "*.password", "headers.authorization", 'headers["x-consul-token"]'];

export const LOG_FORMATS = ["auto", "json", "pretty"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** `auto`: readable lines when stdout is a terminal, JSON lines otherwise (pipes, files, log shippers). */
export function isPretty(format: LogFormat, stream: { isTTY?: boolean } = process.stdout): boolean {
  return format === "pretty" || (format === "auto" && stream.isTTY === true);
}

export function createLogger(
  svc: string,
  level: (typeof LOG_LEVELS)[number],
  fields: Record<string, string> = {},
  format: LogFormat = "json",
  out: { write(line: string): unknown } = process.stdout,
): Logger {
  const options = {
    level,
    base: { svc, ...fields },
    messageKey: "msg",
    formatters: { level: (label: string) => ({ level: label }) },
    redact: { paths: REDACT, censor: "[redacted]" },
  };
  const pretty = isPretty(format);
  const colour = pretty && process.stdout.isTTY;
  // Field names catch `token: …`; the whole line is censored too, for a secret or a URL with
  // credentials inside a message, an error text or any other field (common/redact.ts).
  return pino(options, { write: (line: string) => void out.write(pretty ? prettyLine(redactText(line), colour) : redactText(line)) });
}
