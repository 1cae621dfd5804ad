// Scraping a running berth process: GET its endpoints, and parse the Prometheus text exposition
// format (0.0.4) strictly, so a malformed line fails the test instead of reading as "absent".
//
//   const m = parseExposition((await get(`${url}/metrics`)).body);
//   m.families.get("berth_events_applied_total")?.type            // "counter"
//   valueOf(m, "berth_events_applied_total", { type, node })       // exact label set; 0 when absent
//   histogramOf(m, "berth_event_to_agent_seconds", { node })       // buckets, sum, count

export async function get(url: string): Promise<{ status: number; body: string; contentType: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(15_000) });
  return { status: res.status, body: await res.text(), contentType: res.headers.get("content-type") ?? "" };
}

export type MetricType = "counter" | "gauge" | "histogram" | "summary" | "untyped";
export type Sample = { name: string; labels: Record<string, string>; value: number };
export type Family = { name: string; type: MetricType; help: string; samples: Sample[] };
export type Exposition = { families: Map<string, Family> };

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})?[ \\t]+(\\S+)(?:[ \\t]+(-?\\d+))?$`);
const TYPES = new Set<MetricType>(["counter", "gauge", "histogram", "summary", "untyped"]);
const SUFFIXES: Record<MetricType, string[]> = {
  counter: [""],
  gauge: [""],
  untyped: [""],
  histogram: ["_bucket", "_sum", "_count"],
  summary: ["", "_sum", "_count"],
};

function parseValue(text: string, line: string): number {
  if (text === "+Inf" || text === "Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  const value = Number(text);
  if (text === "" || Number.isNaN(value)) throw new Error(`bad sample value ${JSON.stringify(text)} in: ${line}`);
  return value;
}

/** `a="x",b="y\"z"` → { a: "x", b: 'y"z' }; escapes \\ \" \n; a trailing comma is allowed. */
function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`bad labels (${why}) at ${i} in: ${line}`);
  };
  while (i < text.length) {
    const eq = text.indexOf("=", i);
    if (eq < 0) fail("no =");
    const name = text.slice(i, eq).trim();
    if (!LABEL_NAME.test(name)) fail(`label name ${JSON.stringify(name)}`);
    if (name in labels) fail(`label ${name} twice`);
    i = eq + 1;
    if (text[i] !== '"') fail("value not quoted");
    i++;
    let value = "";
    for (;;) {
      if (i >= text.length) fail("unterminated value");
      const c = text[i]!;
      if (c === '"') break;
      if (c === "\\") {
        const next = text[i + 1];
        if (next === "n") value += "\n";
        else if (next === "\\" || next === '"') value += next;
        else fail(`escape \\${next ?? ""}`);
        i += 2;
      } else {
        value += c;
        i++;
      }
    }
    i++;
    labels[name] = value;
    if (i < text.length) {
      if (text[i] !== ",") fail("no comma between labels");
      i++;
    }
  }
  return labels;
}

/**
 * Every family with its HELP, TYPE and samples. Throws on a line that is not a comment, a blank
 * line or a well-formed sample, on a sample no TYPE line declared (berth declares all of them),
 * on a sample of a family declared earlier but not the current one, and on a repeated series.
 */
export function parseExposition(text: string): Exposition {
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  let current: Family | undefined;
  const familyOf = (name: string) => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { name, type: "untyped", help: "", samples: [] }));
    return f;
  };
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const comment = /^#\s*(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
    if (comment) {
      const [, kind, name, rest = ""] = comment;
      if (!new RegExp(`^${NAME}$`).test(name!)) throw new Error(`bad metric name in: ${line}`);
      current = familyOf(name!);
      if (kind === "TYPE") {
        if (!TYPES.has(rest.trim() as MetricType)) throw new Error(`bad type in: ${line}`);
        if (current.samples.length > 0) throw new Error(`TYPE after samples in: ${line}`);
        current.type = rest.trim() as MetricType;
      } else current.help = rest.replace(/\\(\\|n)/g, (_, c: string) => (c === "n" ? "\n" : "\\"));
      continue;
    }
    if (line.startsWith("#")) continue;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const [, name, labelText = "", valueText] = m;
    const sample: Sample = { name: name!, labels: parseLabels(labelText, line), value: parseValue(valueText!, line) };
    const owner = current && SUFFIXES[current.type].some((s) => `${current!.name}${s}` === name) ? current : undefined;
    if (!owner) throw new Error(`sample ${name} outside its family's TYPE block in: ${line}`);
    const key = `${name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (seen.has(key)) throw new Error(`series repeated: ${line}`);
    seen.add(key);
    owner.samples.push(sample);
  }
  return { families };
}

const sameLabels = (a: Record<string, string>, b: Record<string, string>) =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(b).every(([k, v]) => a[k] === v);

/** The series `name` with exactly `labels`, or undefined. */
export function sampleOf(m: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const f of m.families.values()) {
    for (const s of f.samples) if (s.name === name && sameLabels(s.labels, labels)) return s.value;
  }
  return undefined;
}

/** A counter's value, 0 for a series not yet created (counters with labels appear on first use). */
export const valueOf = (m: Exposition, name: string, labels: Record<string, string> = {}) => sampleOf(m, name, labels) ?? 0;

/** The series of a family whose labels include `labels` (e.g. every `type` of one node). */
export function seriesOf(m: Exposition, name: string, labels: Record<string, string> = {}): Sample[] {
  return [...m.families.values()]
    .flatMap((f) => f.samples)
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

export type HistogramSeries = { buckets: { le: number; count: number }[]; sum: number; count: number };

/** One histogram series: its cumulative buckets in `le` order (+Inf last), sum and count. */
export function histogramOf(m: Exposition, name: string, labels: Record<string, string>): HistogramSeries | undefined {
  const family = m.families.get(name);
  if (!family || family.type !== "histogram") return undefined;
  const buckets = family.samples
    .filter(
      (s) => s.name === `${name}_bucket` && sameLabels(Object.fromEntries(Object.entries(s.labels).filter(([k]) => k !== "le")), labels),
    )
    .map((s) => ({ le: parseValue(s.labels["le"] ?? "", name), count: s.value }))
    .sort((a, b) => a.le - b.le);
  const sum = sampleOf(m, `${name}_sum`, labels);
  const count = sampleOf(m, `${name}_count`, labels);
  if (buckets.length === 0 || sum === undefined || count === undefined) return undefined;
  return { buckets, sum, count };
}

/** The port a berth process logged as "metrics listening" (BERTH_METRICS_PORT=0 picks a free one). */
export const metricsPortOf = (line: { [field: string]: unknown }) => Number(line["port"]);
