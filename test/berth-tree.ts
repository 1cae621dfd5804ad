// A tree of berth to run processes from: today's (this checkout), or the tree at a commit checked
// out apart with `git worktree` (the upgrade test runs berth as it was beside berth as it is).
// Everything comes from this repository's own history; nothing is fetched.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startLoggingProcess, type BerthProcess } from "./berth-process.ts";
import { registerCleanup } from "./harness/cleanup.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

export type BerthTree = {
  /** `today` or the commit. */
  name: string;
  /** `npm run <kind>` of this tree with exactly `env` (plus PATH and LOG_LEVEL=info), as startBerth runs today's. */
  start: (kind: "emitter" | "handler", env: Record<string, string>) => Promise<BerthProcess>;
};

const git = (...args: string[]) => execFileSync("git", ["-C", ROOT, ...args], { stdio: ["ignore", "pipe", "pipe"] }).toString();

function treeAt(name: string, root: string): BerthTree {
  return {
    name,
    start: (kind, env) =>
      startLoggingProcess(`${name} ${kind}`, [join(root, kind, "main.ts")], { PATH: process.env.PATH ?? "", LOG_LEVEL: "info", ...env }),
  };
}

export const today: BerthTree = treeAt("today", ROOT);

/** True when this clone's history holds `commit` (a shallow clone may not). */
export function hasCommit(commit: string): boolean {
  try {
    git("cat-file", "-e", `${commit}^{commit}`);
    return true;
  } catch {
    return false;
  }
}

/**
 * The tree at `commit`, checked out in a temporary directory with its dependencies: today's
 * node_modules when its package-lock.json is today's, else `npm ci --offline` from npm's cache.
 * Removed (worktree and directory) by the harness cleanup, also when the test fails.
 */
export function checkOut(commit: string): BerthTree {
  const dir = mkdtempSync(join(tmpdir(), `berth-${commit}-`));
  registerCleanup(`worktree ${commit}`, () => {
    try {
      git("worktree", "remove", "--force", dir);
    } catch {
      // not added, or removed already: the directory goes below and prune forgets it
    }
    rmSync(dir, { recursive: true, force: true });
    git("worktree", "prune");
    return Promise.resolve();
  });
  git("worktree", "add", "--detach", dir, commit);
  let sameLock = true;
  try {
    git("diff", "--quiet", commit, "--", "package-lock.json");
  } catch {
    sameLock = false;
  }
  if (sameLock && existsSync(join(ROOT, "node_modules"))) symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  else execFileSync("npm", ["ci", "--offline", "--ignore-scripts", "--no-audit", "--no-fund"], { cwd: dir, stdio: "ignore" });
  return treeAt(commit, dir);
}
