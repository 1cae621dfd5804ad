// What the runtime metrics cost a process: RSS once set up, CPU per second while idle (the event loop
// sampler wakes the process), CPU per scrape. `none`: the registry alone; `own`:
// common/runtime-metrics.ts; `prom-client`: its collectDefaultMetrics(), from the folder PROM_CLIENT
// names (not a dependency of berth: `npm i prom-client` somewhere else). One process per run:
//
//   for w in none own prom-client; do node --expose-gc bench/runtime-metrics-cost.ts $w; done
import { setTimeout as sleep } from "node:timers/promises";
import { createRegistry } from "../common/metrics.ts";
import { addRuntimeMetrics } from "../common/runtime-metrics.ts";

type PromClient = { collectDefaultMetrics(): void; register: { metrics(): Promise<string> } };

async function setUp(which: string): Promise<() => Promise<string>> {
  const registry = createRegistry();
  if (which === "own") addRuntimeMetrics(registry);
  if (which !== "prom-client") return () => registry.render();
  if (!process.env["PROM_CLIENT"]) throw new Error("PROM_CLIENT: the folder of an installed prom-client");
  const prom = ((await import(`${process.env["PROM_CLIENT"]}/index.js`)) as { default: PromClient }).default;
  prom.collectDefaultMetrics();
  return () => prom.register.metrics();
}

const which = process.argv[2] ?? "own";
const render = await setUp(which);
for (let i = 0; i < 5; i++) await render();
await sleep(200);
(globalThis as { gc?: () => void }).gc?.();
const rss = process.memoryUsage.rss();
const idle0 = process.cpuUsage();
await sleep(5_000);
const idle = process.cpuUsage(idle0);
const SCRAPES = 500;
const busy0 = process.cpuUsage();
for (let i = 0; i < SCRAPES; i++) await render();
const busy = process.cpuUsage(busy0);
console.log(
  JSON.stringify({
    which,
    rssMB: +(rss / 2 ** 20).toFixed(1),
    idleCpuPercent: +((idle.user + idle.system) / 5 / 1e4).toFixed(2),
    cpuPerScrapeUs: Math.round((busy.user + busy.system) / SCRAPES),
  }),
);
