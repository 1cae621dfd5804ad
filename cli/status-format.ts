// Pure: a status report → the table `berth status` prints for people (`--json` prints the report).
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
const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

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
  out.push("");
  const header = ["NODE", "LAST EVENT", "LAST SNAPSHOT", "CONTAINERS", "SERVICES", "MISSING", "STALE", "AGENT"];
  const rows = report.nodes.map((n) => [
    n.name,
    orDash(n.lastEvent),
    orDash(n.lastSnapshot),
    String(n.containers),
    orDash(n.services),
    orDash(n.drift?.missing),
    orDash(n.drift?.stale),
    clip(n.agent, 80),
  ]);
  out.push(
    ...(rows.length === 0 ? ["no nodes yet: no event has been applied and BERTH_CONSUL_AGENTS names none"] : table([header, ...rows])),
  );
  return `${out.join("\n")}\n`;
}
