// The only file that imports pino. JSON lines on stdout: `time`, `level`, `svc`, `msg`, then fields.
import { pino, type Logger } from "pino";

export type { Logger };
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** Field names whose values are secrets wherever they appear in a log line. */
const REDACT = ["token", "password", "*.token", "*.password", "headers.authorization", 'headers["x-consul-token"]'];

export function createLogger(svc: string, level: (typeof LOG_LEVELS)[number], fields: Record<string, string> = {}): Logger {
  return pino({
    level,
    base: { svc, ...fields },
    messageKey: "msg",
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACT, censor: "[redacted]" },
  });
}
