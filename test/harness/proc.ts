// Spawning long-running daemons with their output in a log file, and stopping them by PID.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { daemonPath, findBinary } from "./bin.ts";
import { childrenOf, isAlive } from "./proc-scan.ts";

export type Exit = { code: number | null; signal: NodeJS.Signals | null };
export type Daemon = {
  pid: number;
  logFile: string;
  /** Resolves when the process has exited (and been reaped). */
  exited: Promise<Exit>;
  running(): boolean;
};

/**
 * Spawns `cmd args` with stdout+stderr appended to `logFile`. The child is unref'd (it never keeps
 * the test process alive) and stays in our process group (a terminal Ctrl-C reaches it too).
 * Rejects if the binary cannot be spawned.
 *
 * `supervised: true` runs it under `tini -s -p SIGTERM --` when tini is installed (Debian's
 * docker.io ships it): tini is a child subreaper, so daemonized grandchildren (containerd shims)
 * are reaped by it at once instead of lingering <defunct> until this machine's PID 1 (not a real
 * init) gets round to reaping orphans; and if the test process is SIGKILLed, tini gets SIGTERM
 * (parent-death signal) and forwards it.
 * `pid` is always the program's own PID (signals go to it; tini exits right after it).
 */
export async function spawnDaemon(
  cmd: string,
  args: readonly string[],
  logFile: string,
  opts: { supervised?: boolean } = {},
): Promise<Daemon> {
  const tini = opts.supervised ? findBinary("tini", ["/usr/bin/tini", "/usr/bin/docker-init"]) : undefined;
  const argv: [string, string[]] = tini === undefined ? [cmd, [...args]] : [tini, ["-s", "-p", "SIGTERM", "--", cmd, ...args]];
  const fd = openSync(logFile, "a");
  let child: ChildProcess;
  try {
    child = spawn(argv[0], argv[1], { stdio: ["ignore", fd, fd], env: { ...process.env, PATH: daemonPath() } });
  } finally {
    closeSync(fd);
  }
  let done = false;
  const exited = new Promise<Exit>((resolve) => {
    child.once("exit", (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
  });
  await new Promise<void>((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", (err) => reject(new Error(`cannot spawn ${cmd}: ${err.message}`, { cause: err })));
  });
  child.unref();
  const spawned = child.pid;
  if (spawned === undefined) throw new Error(`cannot spawn ${cmd}: no pid`);
  const pid = tini === undefined ? spawned : await programUnder(spawned, cmd);
  return { pid, logFile, exited, running: () => !done };
}

async function programUnder(tini: number, cmd: string): Promise<number> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const pid = childrenOf(tini)[0];
    if (pid !== undefined) return pid;
    if (Date.now() > deadline || !isAlive(tini)) throw new Error(`tini did not start ${cmd}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** SIGTERM, wait up to graceMs for the exit, then SIGKILL and wait again. Idempotent. */
export async function stopDaemon(d: Daemon, graceMs = 5000): Promise<Exit> {
  if (!d.running()) return d.exited;
  signal(d.pid, "SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), graceMs)));
  const first = await Promise.race([d.exited, late]);
  clearTimeout(timer);
  if (first !== "late") return first;
  signal(d.pid, "SIGKILL");
  return d.exited;
}

/** Rejects (with the log tail) when the daemon exits; used to abort readiness waits early. */
export function failOnExit(d: Daemon, what: string): { promise: Promise<never>; signal: AbortSignal } {
  const controller = new AbortController();
  const promise = d.exited.then((exit) => {
    const err = new Error(`${what} exited early (${exit.code ?? exit.signal}); log tail:\n${tailFile(d.logFile)}`);
    controller.abort(err);
    throw err;
  });
  promise.catch(() => {}); // observed by whoever races it
  return { promise, signal: controller.signal };
}

export function tailFile(path: string, lines = 15): string {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}
