// Random lifecycle operations on a 3-node cluster of real parts (test/pipeline), with faults
// injected, then every agent compared with the mapping of its node's running containers. Used by test/chaos.test.ts (short) and
// `npm run chaos -- --ops 5000` (long).
import { publishDurable } from "../common/nats/index.ts";
import type { ContainerInspect } from "../emitter/docker.ts";
import { normaliseContainer, rfc3339ToNanos } from "../emitter/normalise.ts";
import { subjectFor, type ContainerEvent, toContainerEvent } from "../schemas/index.ts";
import { bytesOf } from "./builders.ts";
import { docker } from "./harness/docker-cli.ts";
import { startPipeline, type Drift } from "./pipeline/index.ts";
import { seeded } from "./scheduler.ts";

export type ChaosReport = { ops: number; byKind: Record<string, number>; faults: string[]; drift: Drift[]; seconds: number };

const NODES = [
  { name: "c1", ip: "127.0.0.31", engine: "docker" },
  { name: "c2", ip: "127.0.0.32", engine: "docker" },
  { name: "c3", ip: "127.0.0.33", engine: "docker" },
] as const;
const MAX_LIVE_PER_NODE = 12;
const IN_FLIGHT = 6;

export async function runChaos(opts: { ops: number; seed: number; log: (line: string) => void }): Promise<ChaosReport> {
  const started = performance.now();
  const c = await startPipeline({ prefix: "chaos", nodes: [...NODES], handlers: 2, resyncSeconds: 2, bus: true });
  const random = seeded(opts.seed);
  const pick = <T>(items: readonly T[]) => items[random(items.length)]!;
  const live = new Map<string, Set<string>>(NODES.map((n) => [n.name, new Set<string>()]));
  const saved: ContainerEvent[] = [];
  const byKind: Record<string, number> = {};
  const faults: string[] = [];

  /** A start event as the emitter would publish it, kept to be re-published late as a duplicate. */
  const save = async (node: string, id: string) => {
    const [info] = JSON.parse(await docker(c.engine(node), "inspect", id)) as [ContainerInspect];
    const container = normaliseContainer(info, []);
    saved.push(
      toContainerEvent(
        "io.berth.container.started",
        { name: node, hostIp: NODES.find((n) => n.name === node)!.ip },
        rfc3339ToNanos(info.State!.StartedAt!),
        container,
      ),
    );
  };
  const publishDuplicates = async () => {
    for (const event of saved.splice(0, 3)) {
      await c.publish(event); // an exact duplicate: dropped
      await publishDurable(c.bus, subjectFor("chaos", event), bytesOf(event), `${event.id}.late`); // a late copy: must not resurrect
    }
  };

  const operation = async (node: string) => {
    const mine = live.get(node)!;
    const kind =
      mine.size >= MAX_LIVE_PER_NODE
        ? pick(["kill", "rm"])
        : mine.size === 0
          ? "run"
          : pick(["run", "run", "run", "run", "kill", "kill", "stop", "restart", "rm"]);
    byKind[kind] = (byKind[kind] ?? 0) + 1;
    const engine = c.engine(node);
    if (kind === "run") {
      const id = await c.run(node);
      mine.add(id);
      if (random(3) === 0) await save(node, id);
      return;
    }
    const id = pick([...mine]);
    if (kind === "kill") await docker(engine, "kill", id);
    if (kind === "stop") await docker(engine, "stop", "-t", "1", id);
    if (kind === "rm") await docker(engine, "rm", "-f", id);
    if (kind === "restart") {
      await docker(engine, "restart", "-t", "1", id);
      return;
    }
    mine.delete(id);
  };

  /** Faults fire when the batch of operations [i, i + IN_FLIGHT) covers their position. */
  const inject = async (i: number) => {
    const covers = (k: number) => i <= k && k < i + IN_FLIGHT;
    const at = (fraction: number) => covers(Math.floor(opts.ops * fraction));
    const fault = async (name: string, act: () => Promise<unknown>) => {
      faults.push(name);
      opts.log(`chaos: op ${i}: ${name}`);
      await act();
    };
    if (at(0.15) || at(0.65)) await fault("handler SIGKILL", async () => (await c.killHandler(c.handlers[0]!), c.startHandler()));
    if (at(0.3)) await fault("nats restart", () => c.nats!.restart());
    if (at(0.45)) await fault("agent c2 down", () => c.stopAgent("c2"));
    if (at(0.55)) await fault("agent c2 back (empty)", () => c.startAgent("c2"));
    if (at(0.75)) await fault("emitter c3 SIGKILL + restart", async () => (await c.emitter("c3").stop("SIGKILL"), c.startEmitter("c3")));
    if (Array.from({ length: IN_FLIGHT }, (_, k) => i + k).some((k) => k % 25 === 24))
      await fault("duplicate publishes", publishDuplicates);
  };

  for (let i = 0; i < opts.ops; i += IN_FLIGHT) {
    await inject(i);
    const batch = Array.from({ length: Math.min(IN_FLIGHT, opts.ops - i) }, () => pick(NODES).name);
    // Two operations of a batch may race on one container (kill vs rm): Docker refuses one; fine.
    const results = await Promise.allSettled(batch.map(operation));
    byKind["refused by docker"] = (byKind["refused by docker"] ?? 0) + results.filter((r) => r.status === "rejected").length;
    for (const { name } of NODES) live.set(name, await c.running(name));
  }
  await publishDuplicates();
  opts.log(`chaos: ${opts.ops} operations done, waiting for quiescence`);
  const drift = await c.converged(undefined, 120_000);
  return { ops: opts.ops, byKind, faults, drift, seconds: (performance.now() - started) / 1000 };
}

export function describeReport(r: ChaosReport): string {
  const rows = r.drift.map(
    (d) => `${d.node}: ${d.running} running, ${d.missing} missing, ${d.stale} stale, ${d.differences.length} differences in all`,
  );
  return [
    `chaos: ${r.ops} operations (${JSON.stringify(r.byKind)}) in ${r.seconds.toFixed(1)} s`,
    `chaos: faults: ${r.faults.length} (${[...new Set(r.faults)].join(", ")})`,
    ...rows.map((l) => `chaos: ${l}`),
  ].join("\n");
}
