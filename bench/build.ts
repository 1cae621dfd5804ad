// The bench measures what the image runs: berth compiled by tsconfig.build.json (as `npm run build`
// does), from the current sources, once per run, into a temp dir — never a dist/ left from earlier.
// The temp dir gets package.json's "type": "module", a link to node_modules and bin/entrypoint.sh, as /app
// has in the image: berth's processes are started by the entry script, with the node flags it computes.
import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Compiled } from "../test/berth-process.ts";
import { registerCleanup } from "../test/harness/cleanup.ts";

const ROOT = new URL("..", import.meta.url).pathname;
let built: Promise<Compiled> | undefined;

async function build(): Promise<Compiled> {
  const dir = mkdtempSync("/tmp/berth-bench-build-");
  registerCleanup(`bench build (${dir})`, () => {
    rmSync(dir, { recursive: true, force: true });
    return Promise.resolve();
  });
  writeFileSync(join(dir, "package.json"), `${JSON.stringify({ type: "module" })}\n`);
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
  await promisify(execFile)(process.execPath, [tsc, "-p", join(ROOT, "tsconfig.build.json"), "--outDir", join(dir, "dist")], { cwd: ROOT });
  mkdirSync(join(dir, "bin"));
  copyFileSync(join(ROOT, "bin/entrypoint.sh"), join(dir, "bin/entrypoint.sh"));
  return { entry: join(dir, "dist/bin/berth-main.js"), script: join(dir, "bin/entrypoint.sh") };
}

/** The compiled entry (`node <entry> emitter|handler`) and the entry script that runs it, built on first use. */
export function compiledBerth(): Promise<Compiled> {
  built ??= build();
  return built;
}
