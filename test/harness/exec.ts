// Running short-lived commands: async (throws with stderr) and sync (for teardown paths).
import { execFile, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { daemonPath } from "./bin.ts";

export type RunOptions = { env?: NodeJS.ProcessEnv; timeoutMs?: number };

/** Runs `cmd args`, resolves with trimmed stdout; rejects with the exit status and stderr. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      {
        env: opts.env ?? { ...process.env, PATH: daemonPath() },
        timeout: opts.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
        encoding: "utf8",
      },
      (error, stdout, stderr) => {
        if (!error) {
          resolve(stdout.trim());
          return;
        }
        const status = error.killed ? `killed (${error.signal})` : `exit ${String(error.code)}`;
        reject(new Error(`${cmd} ${args.join(" ")} failed (${status}): ${stderr.trim() || error.message}`, { cause: error }));
      },
    );
  });
}

/** Synchronous variant that never throws. */
export function runSync(cmd: string, args: readonly string[], timeoutMs = 10_000): { ok: boolean; stdout: string; stderr: string } {
  // A command that cannot be spawned leaves stdout and stderr undefined, whatever the typings say.
  const r: SpawnSyncReturns<string | undefined> = spawnSync(cmd, args, {
    encoding: "utf8",
    timeout: timeoutMs,
    env: { ...process.env, PATH: daemonPath() },
  });
  return { ok: r.status === 0, stdout: (r.stdout ?? "").trim(), stderr: (r.stderr ?? "").trim() || (r.error?.message ?? "") };
}
