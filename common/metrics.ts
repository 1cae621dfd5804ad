// A small Prometheus registry: counters, gauges and histograms with labels, rendered in the text
// exposition format 0.0.4. No global state: each process makes one registry and passes it down.

type Family = { name: string; help: string; type: "counter" | "gauge" | "histogram"; render(): string[] };

export type Counter<L extends string> = { inc(labels: Record<L, string>, by?: number): void; get(labels: Record<L, string>): number };
export type Gauge<L extends string> = Counter<L> & {
  set(labels: Record<L, string>, value: number): void;
  /** Forgets every series: a gauge of things that come and go (waiting nodes) is set anew at each scrape. */
  clear(): void;
};
export type Histogram<L extends string> = { observe(labels: Record<L, string>, value: number): void };
/** A figure the process keeps itself (CPU seconds), copied in at each scrape: a counter that is set, not added to. */
export type Sampled = { set(value: number): void };

export type Registry = {
  counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L>;
  gauge<L extends string>(name: string, help: string, labelNames: readonly L[]): Gauge<L>;
  histogram<L extends string>(name: string, help: string, labelNames: readonly L[], buckets: readonly number[]): Histogram<L>;
  /** One series without labels whose value is read from elsewhere (set in a collector). */
  sampled(name: string, help: string, type: "counter" | "gauge"): Sampled;
  /** Runs before every render (e.g. to read the consumer's lag); a failing collector is skipped. */
  onCollect(collect: () => Promise<void> | void): void;
  render(): Promise<string>;
};

export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const escapeHelp = (text: string) => text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
const escapeValue = (text: string) => text.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");

export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** `{a="x",b="y"}` in the label names' declared order; "" without labels. */
function labelText(names: readonly string[], labels: Record<string, string>, extra = ""): string {
  const parts = names.map((n) => `${n}="${escapeValue(labels[n] ?? "")}"`);
  if (extra) parts.push(extra);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

export function createRegistry(): Registry {
  const families = new Map<string, Family>();
  const collectors: (() => Promise<void> | void)[] = [];

  const declare = (family: Family, labelNames: readonly string[]) => {
    if (!NAME.test(family.name)) throw new Error(`invalid metric name ${family.name}`);
    for (const l of labelNames) if (!LABEL.test(l) || l === "le") throw new Error(`invalid label name ${l} of ${family.name}`);
    if (families.has(family.name)) throw new Error(`metric ${family.name} declared twice`);
    families.set(family.name, family);
  };

  function scalar<L extends string>(name: string, help: string, type: "counter" | "gauge", labelNames: readonly L[]): Gauge<L> {
    const values = new Map<string, { labels: Record<L, string>; value: number }>();
    const entry = (labels: Record<L, string>) => {
      const key = labelText(labelNames, labels);
      let found = values.get(key);
      if (!found) values.set(key, (found = { labels: { ...labels }, value: 0 }));
      return found;
    };
    // A family without labels has one series from the start, so it reads 0 before anything happens.
    if (labelNames.length === 0) entry({} as Record<L, string>);
    declare(
      { name, help, type, render: () => [...values.entries()].map(([key, v]) => `${name}${key} ${formatNumber(v.value)}`) },
      labelNames,
    );
    return {
      inc(labels, by = 1) {
        if (type === "counter" && !(by >= 0)) throw new Error(`counter ${name} can only go up`);
        entry(labels).value += by;
      },
      set: (labels, value) => void (entry(labels).value = value),
      clear: () => {
        values.clear();
        if (labelNames.length === 0) entry({} as Record<L, string>);
      },
      get: (labels) => values.get(labelText(labelNames, labels))?.value ?? 0,
    };
  }

  return {
    counter: (name, help, labelNames) => scalar(name, help, "counter", labelNames),
    gauge: (name, help, labelNames) => scalar(name, help, "gauge", labelNames),
    histogram(name, help, labelNames, buckets) {
      const bounds = [...buckets].sort((a, b) => a - b);
      const series = new Map<string, { labels: Record<string, string>; counts: number[]; sum: number; count: number }>();
      declare(
        {
          name,
          help,
          type: "histogram",
          render: () =>
            [...series.values()].flatMap((s) => [
              ...bounds.map((b, i) => `${name}_bucket${labelText(labelNames, s.labels, `le="${formatNumber(b)}"`)} ${s.counts[i]}`),
              `${name}_bucket${labelText(labelNames, s.labels, 'le="+Inf"')} ${s.count}`,
              `${name}_sum${labelText(labelNames, s.labels)} ${formatNumber(s.sum)}`,
              `${name}_count${labelText(labelNames, s.labels)} ${s.count}`,
            ]),
        },
        labelNames,
      );
      return {
        observe(labels, value) {
          const key = labelText(labelNames, labels);
          let s = series.get(key);
          if (!s) series.set(key, (s = { labels: { ...labels }, counts: bounds.map(() => 0), sum: 0, count: 0 }));
          for (let i = 0; i < bounds.length; i++) if (value <= bounds[i]!) s.counts[i] = (s.counts[i] ?? 0) + 1;
          s.sum += value;
          s.count++;
        },
      };
    },
    sampled(name, help, type) {
      let value = 0;
      declare({ name, help, type, render: () => [`${name} ${formatNumber(value)}`] }, []);
      return { set: (v) => void (value = v) };
    },
    onCollect: (collect) => void collectors.push(collect),
    async render() {
      await Promise.all(collectors.map(async (c) => c()).map((p) => p.catch(() => undefined)));
      const lines: string[] = [];
      for (const f of families.values()) lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`, ...f.render());
      return `${lines.join("\n")}\n`;
    },
  };
}

/** Dead letters, counted under the same name by the emitter (its own output refused) and the handlers. */
export function deadLetterCounter(registry: Registry): Counter<"reason" | "node"> {
  return registry.counter("berth_events_dead_lettered_total", "Events sent to the dead-letter stream instead of being applied", [
    "reason",
    "node",
  ]);
}
