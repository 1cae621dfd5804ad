// SIGTERM to the emitter mid-burst (containers starting while it publishes): exit 0 at once, no
// stack; what it had not published yet is not lost — the next emitter lists the running containers,
// and every agent ends equal to Docker. (A handler's stop mid-burst: test/shutdown.test.ts.)
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { cleanupAll } from "./harness/cleanup.ts";
import { startPipeline, type Pipeline } from "./pipeline/index.ts";

let p: Pipeline;
before(async () => {
  p = await startPipeline({ prefix: "burst", nodes: [{ name: "b1", ip: "127.0.0.41", engine: "docker" }] });
});
after(cleanupAll);

/** A stop is "at once" well within this: the process's own backstop is 10 s (common/main.ts). */
const STOP_BOUND_MS = 3_000;

test("signals - SIGTERM to the emitter mid-burst: exit 0 at once, no stack; the next emitter brings every container to its agent", async (t) => {
  if (!p.ready(t)) return;
  const emitter = p.emitter("b1");
  const seen = emitter.logs.length;
  const starting = Promise.all(Array.from({ length: 12 }, () => p.run("b1")));
  await emitter.waitForLog((l) => emitter.logs.indexOf(l) >= seen && l.msg === "published", "the emitter publishing the burst", 30_000);
  process.kill(emitter.pid, "SIGTERM");
  const exit = await Promise.race([emitter.exited, sleep(STOP_BOUND_MS).then(() => "still running" as const)]);
  await emitter.stop("SIGKILL");
  assert.deepEqual(exit, { code: 0, signal: null }, emitter.stderr.join("\n"));
  assert.deepEqual(emitter.stderr, [], "no stack, no line outside the log");
  await starting;
  await p.startEmitter("b1");
  const [drift] = await p.converged(["b1"], 60_000);
  assert.equal(drift?.running, 12);
});
