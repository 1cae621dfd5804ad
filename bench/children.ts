// The processes a bench phase runs: berth's real handlers and emitter (test/berth-process.ts, run
// compiled as the image runs them: bench/build.ts) and the floor worker. Every one is registered with the harness cleanup, so nothing outlives the run.
import { mkdirSync } from "node:fs";
import { startBerth, startLoggingProcess, type BerthProcess } from "../test/berth-process.ts";
import { compiledBerth } from "./build.ts";
import { peakRssMb } from "./measure.ts";

/** BENCH_CPU_PROF=<dir>: berth's processes write a V8 CPU profile there when they exit (bench/cpu-profile.mjs). */
export function profiling(): Record<string, string> {
  const dir = process.env.BENCH_CPU_PROF;
  // BENCH_NODE_OPTIONS: Node options for berth's processes (e.g. to try V8 heap settings).
  if (!dir) return process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {};
  mkdirSync(dir, { recursive: true });
  return { BENCH_CPU_PROF: dir, NODE_OPTIONS: `--import=${new URL("./cpu-profile.mjs", import.meta.url).pathname}` };
}

/** The compiled emitter (`node <build>/bin/berth-main.js emitter`), as the image runs it. */
export async function startEmitter(env: Record<string, string>): Promise<BerthProcess> {
  // BENCH_EMITTER_NODE_ARGS: node's own flags for the emitter (e.g. --lite-mode, not allowed in NODE_OPTIONS).
  const nodeArgs = (process.env.BENCH_EMITTER_NODE_ARGS ?? "").split(" ").filter(Boolean);
  return startBerth("emitter", { ...env, ...profiling() }, { ...(await compiledBerth()), nodeArgs });
}

/** `count` compiled handler processes (`node <build>/bin/berth-main.js handler`), each logging `started`. */
export async function startHandlers(count: number, env: Record<string, string>): Promise<BerthProcess[]> {
  const compiled = await compiledBerth();
  const handlers = await Promise.all(Array.from({ length: count }, () => startBerth("handler", { ...env, ...profiling() }, compiled)));
  await Promise.all(handlers.map((h) => h.waitForLog((l) => l.msg === "started", "handler started", 30_000)));
  return handlers;
}

/** Peak RSS of each process, read just before it is stopped. */
export async function stopAll(processes: readonly BerthProcess[]): Promise<number[]> {
  const peaks = processes.map((p) => peakRssMb(p.pid) ?? Number.NaN);
  await Promise.all(processes.map((p) => p.stop()));
  return peaks;
}

/** One bench/floor-worker.ts process; resolves once it consumes (its `floor worker ready` line). */
export async function startFloorWorker(env: Record<string, string>): Promise<BerthProcess> {
  const args = [new URL("./floor-worker.ts", import.meta.url).pathname];
  const worker = await startLoggingProcess("floor worker", args, { PATH: process.env.PATH ?? "", ...env });
  try {
    await worker.waitForLog((l) => l.msg === "floor worker ready", "floor worker ready", 30_000);
  } catch (err) {
    await worker.stop("SIGKILL");
    throw err;
  }
  return worker;
}
