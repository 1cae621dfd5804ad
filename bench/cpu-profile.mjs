// Preloaded into berth's processes when BENCH_CPU_PROF=<dir> is set (NODE_OPTIONS=--import …),
// because Node 20 does not allow --cpu-prof in NODE_OPTIONS: starts V8's sampling profiler and
// writes <dir>/<svc>-<pid>.cpuprofile when the process exits (open it in Chrome DevTools).
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import process from "node:process";

const dir = process.env.BENCH_CPU_PROF;
if (dir) {
  const session = new Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.setSamplingInterval", { interval: 200 });
  session.post("Profiler.start");
  process.once("exit", () => {
    // Same-thread inspector sessions answer synchronously, so this runs before the process ends.
    session.post("Profiler.stop", (err, result) => {
      const svc = process.argv.slice(2).find((a) => a === "emitter" || a === "handler") ?? "node"; // berth-main.js <command>
      if (!err) writeFileSync(`${dir}/${svc}-${process.pid}.cpuprofile`, JSON.stringify(result.profile));
    });
  });
}
