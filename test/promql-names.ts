// The metric names a PromQL expression reads, and the expressions of the examples that ship
// (examples/prometheus-alerts.yaml, examples/grafana-dashboard.json): what test/ops-metrics.test.ts
// checks against the metrics running processes export. Not a PromQL parser: strings, label
// matchers, ranges, grouping clauses and Grafana's variables are cut out, and what is left that
// looks like a name and is no function, keyword or number is a metric.
import { readFileSync } from "node:fs";

const KEYWORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "bool",
  "and",
  "or",
  "unless",
  "offset",
  "inf",
  "nan",
]);

export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\$\{[^}]*\}|\$\w+/g, "")
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  const names = new Set<string>();
  for (const m of bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const name = m[0];
    const before = bare[m.index - 1] ?? "";
    const after = bare.slice(m.index + name.length);
    if (/^\s*\(/.test(after) || KEYWORDS.has(name.toLowerCase()) || /[0-9.]/.test(before)) continue;
    names.add(name);
  }
  return [...names].sort();
}

const example = (file: string) => readFileSync(new URL(`../examples/${file}`, import.meta.url), "utf8");

/** Each alert's name and expression: the rules file keeps every `expr` on one line. */
export function alertExpressions(): { alert: string; expr: string }[] {
  const text = example("prometheus-alerts.yaml");
  return [...text.matchAll(/- alert: (\S+)\n(?:\s+#.*\n)*\s+expr: (.+)/g)].map(([, alert, expr]) => ({ alert: alert!, expr: expr! }));
}

type Panel = { title?: string; targets?: { expr?: string }[]; panels?: Panel[] };

/** Each query of the dashboard, with its panel's title (rows' panels included). */
export function dashboardExpressions(): { panel: string; expr: string }[] {
  const walk = (panels: Panel[]): { panel: string; expr: string }[] =>
    panels.flatMap((p) => [...(p.targets ?? []).map((t) => ({ panel: p.title ?? "", expr: t.expr ?? "" })), ...walk(p.panels ?? [])]);
  return walk((JSON.parse(example("grafana-dashboard.json")) as { panels: Panel[] }).panels);
}

/** The series names a family of the exposition answers to: a histogram's _bucket, _sum and _count. */
export const seriesNames = (family: { name: string; type: string }) =>
  family.type === "histogram" ? [`${family.name}_bucket`, `${family.name}_sum`, `${family.name}_count`] : [family.name];
