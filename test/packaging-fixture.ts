// Shared by test/packaging-*.test.ts: the Dockerfile read instruction by instruction, the build's
// configuration, and what the build's entry reaches.
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

export const ROOT = resolve(import.meta.dirname, "..");
export const read = (path: string) => readFileSync(join(ROOT, path), "utf8");

export type Instruction = { op: string; args: string; stage: number };
export type Stage = { name: string | undefined; instructions: Instruction[] };

/** Dockerfile → stages of instructions (comments dropped, `\` continuations joined, ARG defaults substituted in FROM). */
export function parseDockerfile(text: string): Stage[] {
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  const logical = text
    .replace(/\\\r?\n/g, " ")
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  for (const line of logical) {
    const [, op = "", rest = ""] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = op.toUpperCase();
    if (upper === "ARG" && stages.length === 0) {
      const [key = "", value = ""] = rest.split("=");
      args.set(key, value);
      continue;
    }
    if (upper === "FROM") {
      const expanded = rest.replace(/\$\{(\w+)\}/g, (_, k: string) => args.get(k) ?? "");
      const [, , name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(expanded) ?? [];
      stages.push({ name, instructions: [{ op: upper, args: expanded, stage: stages.length }] });
      continue;
    }
    const stage = stages.at(-1);
    assert.ok(stage, `${upper} before the first FROM`);
    stage.instructions.push({ op: upper, args: rest, stage: stages.length - 1 });
  }
  return stages;
}

export type Copy = { from: string | undefined; sources: string[]; dest: string };

export function parseCopy(args: string): Copy {
  const words = args.split(/\s+/);
  let from: string | undefined;
  while (words[0]?.startsWith("--")) {
    const flag = words.shift()!;
    if (flag.startsWith("--from=")) from = flag.slice("--from=".length);
  }
  const dest = words.pop()!;
  return { from, sources: words, dest };
}

export const ops = (stage: Stage, op: string) => stage.instructions.filter((i) => i.op === op);

/** USER as numbers (a name could not be checked for root without the base image's /etc/passwd). */
export function runtimeUser(stage: Stage): { uid: number; gid: number } {
  const user = ops(stage, "USER").at(-1)?.args ?? "0";
  const match = /^(\d+)(?::(\d+))?$/.exec(user);
  assert.ok(match, `USER ${user} is numeric uid[:gid]`);
  return { uid: Number(match[1]), gid: Number(match[2] ?? match[1]) };
}
export const workdir = (stage: Stage) => ops(stage, "WORKDIR").at(-1)?.args ?? "/";

/** tsconfig.build.json (comment lines dropped): the build's entry and output directory. */
export type BuildConfig = { include: string[]; compilerOptions: { outDir: string; rewriteRelativeImportExtensions?: boolean } };
export function buildConfig(): BuildConfig {
  return JSON.parse(
    read("tsconfig.build.json")
      .split("\n")
      .filter((l) => !l.trim().startsWith("//"))
      .join("\n"),
  ) as BuildConfig;
}
export const BUILD_ENTRY = "bin/berth-main.ts";
/** The image's ENTRYPOINT: node with each process's flags, then the build of BUILD_ENTRY. */
export const ENTRY_SCRIPT = "bin/entrypoint.sh";
/** `berth` on the image's PATH: a wrapper that execs ENTRY_SCRIPT (docker exec <container> berth status). */
export const PATH_WRAPPER = "bin/berth-on-path.sh";
export const PATH_COMMAND = "/usr/local/bin/berth";

/** Every .ts file reachable through relative imports (static and import()) from the build's entry. */
export function runtimeFiles(): Set<string> {
  const seen = new Set<string>();
  const queue = [BUILD_ENTRY];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    if (seen.has(file)) continue;
    seen.add(file);
    for (const m of read(file).matchAll(/(?:from\s+|import\s*\(\s*|import\s+)"(\.{1,2}\/[^"]+)"/g)) {
      queue.push(relative(ROOT, resolve(ROOT, dirname(file), m[1]!)));
    }
  }
  return seen;
}

/** .dockerignore patterns (the simple forms this repository uses: names and `*.ext`, no `!`). */
export function dockerignored(path: string): boolean {
  const patterns = read(".dockerignore")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  assert.ok(
    patterns.every((p) => !p.startsWith("!")),
    "no re-includes: every rule excludes",
  );
  const first = path.split("/")[0]!;
  return patterns.some((p) => (p.startsWith("*.") ? path.endsWith(p.slice(1)) : p.replace(/\/$/, "") === first));
}

/** Every file under `dir`, relative to it. */
export function walk(dir: string, prefix = ""): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(dir, join(prefix, e.name)) : [join(prefix, e.name)],
  );
}

/** The stage a COPY --from names, by name or index. */
export const stageNamed = (stages: Stage[], name: string) => stages.find((s, i) => s.name === name || String(i) === name);

/** The Dockerfile's stages, its runtime stage, the build's output directory and the image's compiled entry. */
export function dockerfile() {
  const stages = parseDockerfile(read("Dockerfile"));
  const runtime = stages.at(-1)!;
  const outDir = buildConfig().compilerOptions.outDir;
  /** The image's entry: the build's output of bin/berth-main.ts. */
  const builtEntry = join(outDir, BUILD_ENTRY.replace(/\.ts$/, ".js"));
  const runtimeCopies = () => ops(runtime, "COPY").map((c) => parseCopy(c.args));
  return { stages, runtime, outDir, builtEntry, runtimeCopies };
}
