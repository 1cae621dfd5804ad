// Pure: one JSON log line → one line for people at a terminal (LOG_FORMAT=pretty, or a TTY):
//   12:04:05.123 INFO  handler applied node=node1 container=3f2a9c1b7d4e services=["node1:web:…"]
// Fields keep their names; only the 64-hex container IDs are cut to Docker's 12 characters.
import { isContainerId } from "../schemas/patterns.ts";

const LEVEL_COLOURS: Record<string, string> = { fatal: "35", error: "31", warn: "33", info: "32", debug: "36", trace: "90" };
const HIDDEN = new Set(["time", "level", "svc", "msg", "pid", "hostname"]);

function fieldText(key: string, value: unknown): string {
  if (typeof value === "string") {
    const shown = key === "container" && isContainerId(value) ? value.slice(0, 12) : value;
    return /^[^\s"=]+$/.test(shown) ? shown : JSON.stringify(shown);
  }
  // JSON.stringify gives undefined for these.
  const unserialisable = value === undefined || typeof value === "function" || typeof value === "symbol";
  return unserialisable ? String(value) : JSON.stringify(value);
}

/** A field the logger wrote as text (level, svc, msg); anything else as JSON. */
const textOf = (value: unknown): string => (value === undefined ? "" : typeof value === "string" ? value : JSON.stringify(value));

function clock(time: unknown): string {
  const date = new Date(typeof time === "number" ? time : Date.now());
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/** Formats one JSON log line; a line that is not JSON is passed through unchanged. */
export function prettyLine(jsonLine: string, colour: boolean): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(jsonLine) as Record<string, unknown>;
  } catch {
    return jsonLine.endsWith("\n") ? jsonLine : `${jsonLine}\n`;
  }
  const level = textOf(entry["level"]) || "info";
  const label = level.toUpperCase().padEnd(5);
  const shownLevel = colour && LEVEL_COLOURS[level] ? `\x1b[${LEVEL_COLOURS[level]}m${label}\x1b[0m` : label;
  const fields = Object.entries(entry)
    .filter(([k]) => !HIDDEN.has(k))
    .map(([k, v]) => `${k}=${fieldText(k, v)}`);
  const head = [clock(entry["time"]), shownLevel, textOf(entry["svc"]), textOf(entry["msg"])].filter((p) => p !== "");
  return `${[...head, ...fields].join(" ")}\n`;
}
