// The memory floor of the runtime, in the same run: peak RSS of an idle `node` after 300 ms (the
// image and the bench run berth compiled).
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const REPORT = `setTimeout(() => process.stdout.write(/VmHWM:\\s+(\\d+)/.exec(require("fs").readFileSync("/proc/self/status", "utf8"))[1]), 300)`;

async function idlePeakMb(): Promise<number> {
  const { stdout } = await promisify(execFile)(process.execPath, ["-e", REPORT], { cwd: new URL("..", import.meta.url).pathname });
  return Math.round(Number(stdout) / 102.4) / 10;
}

export async function runtimeFloor() {
  return { node_idle_mb: await idlePeakMb() };
}
