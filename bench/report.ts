// The bench's table (stdout, and README's Performance section) from the figures in results.json.
import { hostRows } from "./report-host.ts";
import { pipelineRows } from "./report-pipeline.ts";
import type { Row } from "./report-cells.ts";
import type { Results } from "./results.ts";

const HEADER: Row = ["figure", "berth", "floor (same run)", "ratio", "target", "met"];

/** A Markdown table: readable in a terminal and pasted as is into README's Performance section. */
export function formatTable(results: Results): string {
  const rows = [HEADER, ...pipelineRows(results), ...hostRows(results)];
  const widths = HEADER.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: Row) => `| ${r.map((cell, i) => cell.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(HEADER), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.slice(1).map(line)].join("\n");
}
