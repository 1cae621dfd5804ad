// The quiet host's floor (item 5), run as berth runs there: a publisher process of its own that
// sleeps until woken (bench/floor-publisher.ts, as the emitter sleeps until Docker's event) and two
// worker processes (bench/floor-worker.ts, as two handlers), all started with berth's, warmed by
// the same rounds and woken as far apart. Each floor container is started and, a spacing later,
// stopped, as berth's are; the samples: publish → consumed (one bus hop, nothing else) and
// publish → registered (bare publish → pull → PUT), on the machine's monotonic clock.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { normaliseContainer } from "../emitter/normalise.ts";
import { toContainerEvent } from "../schemas/index.ts";
import { startLoggingProcess, type BerthProcess } from "../test/berth-process.ts";
import { waitFor } from "../test/harness/wait.ts";
import { startFloorWorker } from "./children.ts";
import type { FastAgent } from "./fast-agent.ts";
import { fromMonotonic } from "./floor-clock.ts";
import { openFloorBus } from "./floor-publish.ts";
import type { FloorEvent } from "./floor-publisher.ts";
import { containerId, inspectOf } from "./synthetic.ts";

export type FloorSample = { hop_ms: number; whole_ms: number };

export type QuietFloor = {
  /** Wakes the publisher for floor container `k`'s start; resolves with its sample once the agent holds it. */
  start(k: number): Promise<FloorSample>;
  /** Wakes the publisher for its stop; resolves once the agent no longer holds it. */
  stop(k: number): Promise<void>;
  processes: readonly BerthProcess[];
  close(): Promise<void>;
};

const WAIT = { timeoutMs: 10_000, intervalMs: 5 } as const;

/** `containers`: how many floor containers will be started and stopped, in order (k = 0, 1, …). */
export async function startQuietFloor(
  natsUrl: string,
  agent: FastAgent,
  o: { name: string; node: string; hostIp: string; containers: number; workers: number },
): Promise<QuietFloor> {
  const bus = await openFloorBus(natsUrl, o.name);
  const dir = mkdtempSync(path.join(tmpdir(), "berth-bench-floor-"));
  const ids = Array.from({ length: o.containers }, (_, k) => containerId(`${o.name}-${k}`));
  const node = { name: o.node, hostIp: o.hostIp };
  const nanos = BigInt(Date.now()) * 1_000_000n;
  // The bytes berth's emitter would publish for each start and stop, made before anything is timed.
  const events: FloorEvent[] = ids.flatMap((id, k) => {
    const container = normaliseContainer(inspectOf(id, k), []);
    return (["started", "stopped"] as const).map((action, i) => {
      const event = toContainerEvent(`io.berth.container.${action}`, node, nanos + BigInt(2 * k + i), container);
      return { subject: `${o.name}.floor.container.${action}`, msgId: event.id, data: JSON.stringify(event) };
    });
  });
  const eventsFile = path.join(dir, "events.json");
  writeFileSync(eventsFile, JSON.stringify(events));
  const processes: BerthProcess[] = [];
  const close = async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await bus.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const env = { NATS_URL: natsUrl, FLOOR_STREAM: bus.stream, FLOOR_CONSUMER: bus.consumer, AGENT_URL: agent.url, CONCURRENCY: "64" };
    processes.push(...(await Promise.all(Array.from({ length: o.workers }, () => startFloorWorker({ ...env, FLOOR_TIMED: "1" })))));
    const publisher = await startLoggingProcess("floor publisher", [new URL("./floor-publisher.ts", import.meta.url).pathname], {
      PATH: process.env.PATH ?? "",
      NATS_URL: natsUrl,
      FLOOR_EVENTS: eventsFile,
    });
    processes.push(publisher);
    await publisher.waitForLog((l) => l.msg === "floor publisher ready", "floor publisher ready", 30_000);
    const toHere = fromMonotonic();
    const wake = () => process.kill(publisher.pid, "SIGUSR2");
    return {
      async start(k) {
        const id = ids[k]!;
        wake();
        await waitFor(() => agent.registeredAt.has(id), { what: `floor container ${k} registered`, ...WAIT });
        const meta = agent.ownedBy(o.node).find((s) => s.Meta.berth_container === id)!.Meta;
        const sent = Number(meta.floor_sent_ms);
        return { hop_ms: Number(meta.floor_consumed_ms) - sent, whole_ms: agent.registeredAt.get(id)! - toHere(sent) };
      },
      async stop(k) {
        wake();
        await waitFor(() => agent.goneAt.has(ids[k]!), { what: `floor container ${k} removed`, ...WAIT });
      },
      processes,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
