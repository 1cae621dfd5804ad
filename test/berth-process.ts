// Runs `npm run emitter` / `npm run handler` equivalents as child processes and reads their JSON logs.
// By default from the TypeScript sources, which Node runs as they are (tests never depend on a build); `compiled` runs a
// build's entry instead, as the image does (the bench, test/packaging-layout.test.ts).
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { registerCleanup } from "./harness/cleanup.ts";
import { waitFor } from "./harness/wait.ts";

export type LogLine = { level: string; msg: string; [field: string]: unknown };

export type BerthProcess = {
  pid: number;
  logs: LogLine[];
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitForLog(match: (line: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
  /** Sends `signal` (default SIGTERM) and waits for the exit; SIGKILL after 10 s. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
};

const ENTRY = { emitter: "emitter/main.ts", handler: "handler/main.ts" } as const;

const ROOT = new URL("../", import.meta.url);

/**
 * Node's flags for `kind` as the image runs it outside a memory limit: the `exec node …` line of
 * bin/entrypoint.sh that `kind` reaches, without the flags it computes (`$heap`: none without a limit).
 */
export function imageNodeArgs(kind: keyof typeof ENTRY): string[] {
  const script = readFileSync(new URL("bin/entrypoint.sh", ROOT), "utf8");
  const own = new RegExp(`^if \\[ "\\$1" = ${kind} \\]; then exec node (.*)"\\$main" "\\$@"; fi$`, "m").exec(script);
  const rest = /^exec node (.*)"\$main" "\$@"$/m.exec(script);
  return (own ?? rest)![1]!.split(" ").filter((a) => a !== "" && !a.startsWith("$"));
}

/** The arguments `npm run <kind>` gives node in a clone (package.json's script). */
export function npmRunArgs(kind: keyof typeof ENTRY): string[] {
  const { scripts } = JSON.parse(readFileSync(new URL("package.json", ROOT), "utf8")) as { scripts: Record<string, string> };
  const [node, ...args] = scripts[kind]!.split(" ");
  if (node !== "node") throw new Error(`npm run ${kind} does not run node: ${scripts[kind]}`);
  return args;
}

/**
 * `entry`: a compiled bin/berth-main.js (`npm run build`), run as the image runs it: `node <nodeArgs> <entry> <kind>`,
 * nodeArgs by default bin/entrypoint.sh's for `kind`; `script`: the entry script itself instead (`sh <script> <kind>`,
 * with the flags it computes, e.g. under a memory limit); `user`: uid/gid to run as (root only); `wrap`: the command
 * line that runs it (e.g. in a memory cgroup: test/harness/memory-cgroup.ts).
 */
export type Compiled = {
  entry: string;
  user?: { uid: number; gid: number };
  nodeArgs?: readonly string[];
  script?: string;
  wrap?: (command: string, args: readonly string[]) => [string, string[]];
};

export async function startBerth(kind: keyof typeof ENTRY, env: Record<string, string>, compiled?: Compiled): Promise<BerthProcess> {
  const args = compiled ? [...(compiled.nodeArgs ?? imageNodeArgs(kind)), compiled.entry, kind] : [ENTRY[kind]];
  const direct: [string, string[]] =
    compiled?.script !== undefined && compiled.nodeArgs === undefined ? ["sh", [compiled.script, kind]] : [process.execPath, args];
  const [command, commandArgs] = compiled?.wrap ? compiled.wrap(...direct) : direct;
  return startLoggingProcess(kind, commandArgs, { PATH: process.env.PATH ?? "", LOG_LEVEL: "info", ...env }, compiled?.user, command);
}

/**
 * `node <args>` (or `command <args>`) with exactly `env`, whose stdout is JSON log lines (other lines go to `stderr`):
 * registered with the harness cleanup (SIGKILL) until stopped. `name` names it in errors and cleanup.
 */
export async function startLoggingProcess(
  name: string,
  args: readonly string[],
  env: Record<string, string>,
  user?: Compiled["user"],
  command: string = process.execPath,
): Promise<BerthProcess> {
  const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"], ...user });
  const pid = await new Promise<number>((resolve, reject) => {
    child.once("spawn", () => resolve(child.pid!));
    child.once("error", reject);
  });
  const logs: LogLine[] = [];
  const stderr: string[] = [];
  createInterface({ input: child.stdout }).on("line", (line) => {
    try {
      logs.push(JSON.parse(line) as LogLine);
    } catch {
      stderr.push(line);
    }
  });
  createInterface({ input: child.stderr }).on("line", (line) => stderr.push(line));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  let done = false;
  void exited.then(() => (done = true));
  const stop = async (signal: NodeJS.Signals = "SIGTERM") => {
    if (!done) child.kill(signal);
    const timer = setTimeout(() => !done && child.kill("SIGKILL"), 10_000);
    const result = await exited;
    clearTimeout(timer);
    unregister();
    return result;
  };
  const unregister = registerCleanup(
    `${name} ${pid}`,
    async () => {
      await stop("SIGKILL");
    },
    () => {
      if (!done) process.kill(pid, "SIGKILL");
    },
  );
  const proc: BerthProcess = {
    pid,
    logs,
    stderr,
    exited,
    stop,
    waitForLog: (match, what, timeoutMs = 15_000) =>
      waitFor(
        () => {
          if (done && !logs.some(match)) throw new Error(`${name} exited: ${stderr.slice(-5).join("\n")}`);
          return logs.find(match);
        },
        { what: `${name} log: ${what}`, timeoutMs },
      ),
  };
  return proc;
}
