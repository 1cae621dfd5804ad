// Pure: a status report → the table `berth status` prints for people (`--json` prints the report).
import { redactText } from "../common/redact.ts";
import type { StatusReport } from "./status-report.ts";

/** Left-aligned columns, two spaces apart; the last column is not padded. */
export function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 ** 2).toFixed(1)} MiB`;
}

const orDash = (value: number | string | null | undefined) => (value === null || value === undefined ? "-" : String(value));
/** Censored before it is cut: a secret cut in two would no longer be recognised by the censor that runs on the output. */
const clip = (text: string, max: number) => {
  const censored = redactText(text);
  return censored.length > max ? `${censored.slice(0, max - 1)}…` : censored;
};

/** A wait's length for people: `42 s`, `3 min`, `2 h 5 min`, `3 d 4 h`. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

/** An instant for people, in UTC: the time of day when it is the report's day, else the date too. */
function instant(iso: string, reportAt: string): string {
  const [date, time] = [iso.slice(0, 10), iso.slice(11, 19)];
  return date === reportAt.slice(0, 10) ? `${time} UTC` : `${date} ${time} UTC`;
}

function waitingLines(report: StatusReport): string[] {
  const w = report.waiting;
  if ("error" in w) return [`nodes waiting for their agent: unknown (${w.error})`];
  const waiting = report.nodes.filter((n) => n.waiting !== null);
  const kinds = new Map<string, number>();
  for (const n of waiting) kinds.set(n.waiting!.for, (kinds.get(n.waiting!.for) ?? 0) + 1);
  const perKind = kinds.size === 0 ? "" : ` (${[...kinds].map(([k, n]) => `${k} ${n}`).join(", ")})`;
  const out = [`nodes waiting for their agent: ${w.count} of ${report.nodes.length}${perKind}`];
  out.push(
    ...table(
      waiting.map((n) => [
        `  ${n.name}`,
        `waiting since ${instant(n.waiting!.since, report.at)} (${duration(n.waiting!.seconds)}): ${n.waiting!.reason}`,
      ]),
    ),
  );
  return out;
}

export function formatStatus(report: StatusReport): string {
  const out: string[] = [`berth status (prefix ${report.prefix})`, ""];
  out.push(`stream ${report.stream.name}: ${report.stream.messages} messages (${bytes(report.stream.bytes)})`);
  const c = report.consumer;
  out.push(
    "error" in c
      ? `consumer ${c.name}: ${c.error}`
      : `consumer ${c.name}: ${c.pending} pending, ${c.ackPending} unacknowledged, ${c.redelivered} redelivered`,
  );
  const reasons = Object.entries(report.deadLetters.byReason).sort(([a], [b]) => a.localeCompare(b));
  const perReason = reasons.length === 0 ? "" : ` (${reasons.map(([r, n]) => `${r} ${n}`).join(", ")})`;
  out.push(`dead letters: ${report.deadLetters.count}${perReason}`);
  if (report.deadLetters.last.length > 0) {
    out.push(...table(report.deadLetters.last.map((d) => [`  ${d.time}`, d.reason, d.subject, clip(d.problems.join("; "), 100)])));
  }
  out.push(...waitingLines(report));
  out.push("");
  const unknown = "error" in report.waiting;
  const header = ["NODE", "LAST EVENT", "LAST SNAPSHOT", "CONTAINERS", "SERVICES", "MISSING", "STALE", "WAITING", "AGENT"];
  const rows = report.nodes.map((n) => [
    n.name,
    orDash(n.lastEvent),
    orDash(n.lastSnapshot),
    String(n.containers),
    orDash(n.services),
    orDash(n.drift?.missing),
    orDash(n.drift?.stale),
    unknown ? "?" : n.waiting ? duration(n.waiting.seconds) : "-",
    clip(n.agent, 80),
  ]);
  out.push(
    ...(rows.length === 0 ? ["no nodes yet: no event has been applied and BERTH_CONSUL_AGENTS names none"] : table([header, ...rows])),
  );
  return `${out.join("\n")}\n`;
}
