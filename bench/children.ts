// The processes a bench phase runs: berth's real handlers and emitter (test/berth-process.ts, run
// compiled as the image runs them: bench/build.ts) and the floor worker. Every one is registered with the harness cleanup, so nothing outlives the run.
import { mkdirSync } from "node:fs";
import { npmRunArgs, startBerth, startLoggingProcess, type BerthProcess } from "../test/berth-process.ts";
import { memoryCgroup, type MemoryCgroup } from "../test/harness/memory-cgroup.ts";
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

/**
 * How berth's processes are started: `image` as the image runs them (compiled, with bin/entrypoint.sh's
 * node flags), `clone` as `npm run emitter|handler` runs them in a clone (the TypeScript sources).
 */
export type Launch = "image" | "clone";

function start(kind: "emitter" | "handler", env: Record<string, string>, launch: Launch, cgroup?: MemoryCgroup): Promise<BerthProcess> {
  const full = { ...env, ...profiling() };
  if (launch === "clone") return startLoggingProcess(kind, npmRunArgs(kind), { PATH: process.env.PATH ?? "", LOG_LEVEL: "info", ...full });
  // BENCH_EMITTER_NODE_ARGS, BENCH_HANDLER_NODE_ARGS: node's own flags instead of the image's (e.g. "" to try
  // the emitter without --lite-mode; V8 flags, which NODE_OPTIONS refuses).
  const override = process.env[kind === "emitter" ? "BENCH_EMITTER_NODE_ARGS" : "BENCH_HANDLER_NODE_ARGS"];
  const nodeArgs = override !== undefined ? { nodeArgs: override.split(" ").filter(Boolean) } : {};
  const limited = cgroup ? { wrap: cgroup.wrap } : {};
  return compiledBerth().then((compiled) => startBerth(kind, full, { ...compiled, ...nodeArgs, ...limited }));
}

/** The emitter, as `launch` says (by default as the image runs it). */
export function startEmitter(env: Record<string, string>, launch: Launch = "image"): Promise<BerthProcess> {
  return start("emitter", env, launch);
}

/** `count` handler processes, as `launch` says (by default as the image runs them), each logging `started`. */
export async function startHandlers(count: number, env: Record<string, string>, launch: Launch = "image"): Promise<BerthProcess[]> {
  const handlers = await Promise.all(Array.from({ length: count }, () => start("handler", env, launch)));
  await Promise.all(handlers.map((h) => h.waitForLog((l) => l.msg === "started", "handler started", 30_000)));
  return handlers;
}

/**
 * `count` handlers as the image runs them, each in a memory cgroup of `limitMib` of its own (as
 * under `docker run --memory`; root only): the entry script sizes the heap from the limit.
 */
export async function startLimitedHandlers(count: number, env: Record<string, string>, limitMib: number) {
  const cgroups = Array.from({ length: count }, () => memoryCgroup(limitMib));
  const handlers = await Promise.all(cgroups.map((cgroup) => start("handler", env, "image", cgroup)));
  await Promise.all(handlers.map((h) => h.waitForLog((l) => l.msg === "started", "handler started", 30_000)));
  return { handlers, cgroups };
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
