// The bench's table (stdout, and README's Performance section) from the figures in results.json.
import { refusalsIn } from "./floor-check.ts";
import { clusterRows } from "./report-cluster.ts";
import { hostRows } from "./report-host.ts";
import { pipelineRows } from "./report-pipeline.ts";
import type { Row } from "./report-cells.ts";
import type { Results } from "./results.ts";

const HEADER: Row = [
  "figure",
  "berth",
  "berth min / median / max (rounds)",
  "floor (same run)",
  "floor min / median / max (rounds)",
  "ratio",
  "target",
  "met",
];

/** A Markdown table: readable in a terminal and pasted as is into README's Performance section. */
export function formatTable(results: Results): string {
  const rows = [HEADER, ...pipelineRows(results), ...hostRows(results), ...clusterRows(results)];
  const widths = HEADER.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: Row) => `| ${r.map((cell, i) => cell.padEnd(widths[i]!)).join(" | ")} |`;
  const table = [line(HEADER), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.slice(1).map(line)].join("\n");
  return [table, ...refusedFloors(results)].join("\n");
}

/** What each refused floor's row stands for, after the table: the item failed, and why. */
export function refusedFloors(figures: unknown): string[] {
  const refused = refusalsIn(figures);
  return refused.length === 0 ? [] : ["", "Refused floors (each fails its item):", ...refused.map((r) => `- ${r}`)];
}
