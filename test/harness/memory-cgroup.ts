// A memory cgroup of its own (root only), on cgroup v1 or v2 as the machine mounts it: a process
// started through `wrap` runs under the limit from its first instruction, as in a container started
// with `--memory`; `oomKills()` counts the kernel's OOM kills in it, `peakMib()` its peak usage.
// Swap is not counted on v1 (none here); on v2 it is turned off for the group. Removed by the
// harness cleanup once its processes are gone.
//
//   const cg = memoryCgroup(128);
//   const [command, args] = cg.wrap("node", ["handler/main.ts"]);   // sh -c 'echo $$ > …/cgroup.procs; exec "$@"' …
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { registerCleanup } from "./cleanup.ts";
import { isRoot } from "./prereq.ts";
import { waitFor } from "./wait.ts";

const V1 = "/sys/fs/cgroup/memory";
const V2 = "/sys/fs/cgroup";

export type MemoryCgroup = {
  path: string;
  /** The command line that runs `command args` inside the group. */
  wrap: (command: string, args: readonly string[]) => [string, string[]];
  oomKills: () => number;
  peakMib: () => number;
  remove: () => Promise<void>;
};

const v1 = () => existsSync(join(V1, "memory.limit_in_bytes"));
const v2 = () => !v1() && readIfThere(join(V2, "cgroup.subtree_control"))?.split(" ").includes("memory") === true;

function readIfThere(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** Root, and a memory controller this process can make groups in. */
export function canLimitMemory(): boolean {
  return isRoot() && (v1() || v2());
}

/** The `key N` line of a flat-keyed cgroup file (memory.oom_control, memory.events). */
const keyed = (file: string, key: string) => Number(new RegExp(`^${key} (\\d+)$`, "m").exec(readIfThere(file) ?? "")?.[1] ?? 0);

export function memoryCgroup(limitMib: number): MemoryCgroup {
  const onV1 = v1();
  const path = join(onV1 ? V1 : V2, `berth-mem-${process.pid}-${randomBytes(3).toString("hex")}`);
  mkdirSync(path);
  const bytes = String(limitMib * 1024 * 1024);
  if (onV1) writeFileSync(join(path, "memory.limit_in_bytes"), bytes);
  else {
    writeFileSync(join(path, "memory.max"), bytes);
    writeFileSync(join(path, "memory.swap.max"), "0");
  }
  const procs = () => (readIfThere(join(path, "cgroup.procs")) ?? "").split("\n").filter(Boolean);
  const remove = async () => {
    if (!existsSync(path)) return;
    // Its processes belong to whoever started them; the group can go once they have exited.
    await waitFor(() => procs().length === 0, { what: `${path} empty`, timeoutMs: 15_000 });
    rmdirSync(path);
    unregister();
  };
  const unregister = registerCleanup(`memory cgroup ${path}`, remove);
  return {
    path,
    wrap: (command, args) => ["sh", ["-c", `echo $$ > ${join(path, "cgroup.procs")} && exec "$@"`, "sh", command, ...args]],
    oomKills: () => (onV1 ? keyed(join(path, "memory.oom_control"), "oom_kill") : keyed(join(path, "memory.events"), "oom_kill")),
    peakMib: () => Number(readIfThere(join(path, onV1 ? "memory.max_usage_in_bytes" : "memory.peak")) ?? Number.NaN) / 2 ** 20,
    remove,
  };
}
