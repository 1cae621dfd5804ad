// Synchronous /proc scanning: liveness, process trees, and a last-resort SIGKILL sweep.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** True while `pid` exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  const stat = readStat(pid);
  return stat !== undefined && stat.state !== "Z";
}

/** All living descendants of `roots` (children, grandchildren …), found through /proc ppid links. */
export function descendants(roots: readonly number[]): number[] {
  const children = new Map<number, number[]>();
  for (const pid of allPids()) {
    const stat = readStat(pid);
    if (stat === undefined || stat.state === "Z") continue;
    children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), pid]);
  }
  const found: number[] = [];
  const queue = [...roots];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    for (const child of children.get(pid) ?? []) {
      if (!found.includes(child)) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

/** Living direct children of `pid`. */
export function childrenOf(pid: number): number[] {
  return allPids().filter((p) => readStat(p)?.ppid === pid && isAlive(p));
}

/** Living processes whose command line contains `needle` (e.g. a temp dir path). */
export function pidsWithCmdline(needle: string): number[] {
  return allPids().filter((pid) => {
    if (pid === process.pid || !isAlive(pid)) return false;
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").includes(needle);
    } catch {
      return false;
    }
  });
}

/** Paths of the unix sockets that `pids` hold open (via /proc/<pid>/fd inodes and /proc/net/unix). */
export function unixSocketPaths(pids: readonly number[]): string[] {
  const inodes = new Set<string>();
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m?.[1] !== undefined) inodes.add(m[1]);
      } catch {
        // fd closed meanwhile
      }
    }
  }
  // /proc/net/unix: "Num RefCount Protocol Flags Type St Inode Path"
  const rows = readFileSync("/proc/net/unix", "utf8")
    .split("\n")
    .slice(1)
    .map((l) => l.trim().split(/\s+/));
  return [...new Set(rows.filter((r) => r[6] !== undefined && inodes.has(r[6]) && r[7]?.startsWith("/")).map((r) => r[7] ?? ""))];
}

/** SIGKILLs `pids` and their descendants, then waits (blocking, up to waitMs) until all are gone. */
export function killTreeSync(pids: readonly number[], waitMs = 3000): number[] {
  const targets = [...new Set([...pids.filter(isAlive), ...descendants(pids)])];
  for (const pid of targets) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone already
    }
  }
  const deadline = Date.now() + waitMs;
  while (targets.some(isAlive) && Date.now() < deadline) sleepSync(10);
  return targets.filter(isAlive);
}

export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function allPids(): number[] {
  return readdirSync("/proc")
    .filter((n) => /^\d+$/.test(n))
    .map(Number);
}

/** The process's start time (clock ticks since boot, as text), undefined when it is gone. */
export function startTimeOf(pid: number): string | undefined {
  const stat = readStat(pid);
  return stat === undefined || stat.state === "Z" ? undefined : stat.start;
}

function readStat(pid: number): { state: string; ppid: number; start: string } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) state ppid …": comm may contain spaces and parentheses, so cut at the last ')'.
    // After the cut, field 0 is the state (3rd field of stat) and field 19 the start time (22nd).
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0] ?? "?", ppid: Number(fields[1]), start: fields[19] ?? "" };
  } catch {
    return undefined;
  }
}
