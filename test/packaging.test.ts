// The image, without building it (no registry here, so no base image): the Dockerfile is read
// instruction by instruction and checked (non-root runtime, production dependencies only, only
// what runs is copied), then its COPY and RUN lines are carried out in a temp dir — `npm ci` from
// the local npm cache, offline — and the result is run as the Dockerfile's USER, as the image would run it.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { registerCleanup, cleanupAll } from "./harness/cleanup.ts";
import { isRoot } from "./harness/prereq.ts";

const ROOT = resolve(import.meta.dirname, "..");
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");

type Instruction = { op: string; args: string; stage: number };
type Stage = { name: string | undefined; instructions: Instruction[] };

/** Dockerfile → stages of instructions (comments dropped, `\` continuations joined, ARG defaults substituted in FROM). */
function parseDockerfile(text: string): Stage[] {
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  const logical = text.replace(/\\\r?\n/g, " ").split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
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

type Copy = { from: string | undefined; sources: string[]; dest: string };

function parseCopy(args: string): Copy {
  const words = args.split(/\s+/);
  let from: string | undefined;
  while (words[0]?.startsWith("--")) {
    const flag = words.shift()!;
    if (flag.startsWith("--from=")) from = flag.slice("--from=".length);
  }
  const dest = words.pop()!;
  return { from, sources: words, dest };
}

const ops = (stage: Stage, op: string) => stage.instructions.filter((i) => i.op === op);

/** USER as numbers (a name could not be checked for root without the base image's /etc/passwd). */
function runtimeUser(stage: Stage): { uid: number; gid: number } {
  const user = ops(stage, "USER").at(-1)?.args ?? "0";
  const match = /^(\d+)(?::(\d+))?$/.exec(user);
  assert.ok(match, `USER ${user} is numeric uid[:gid]`);
  return { uid: Number(match[1]), gid: Number(match[2] ?? match[1]) };
}
const workdir = (stage: Stage) => ops(stage, "WORKDIR").at(-1)?.args ?? "/";

/** Every .ts/.js file reachable through relative imports from the entry points bin/berth.js dispatches to. */
function runtimeFiles(): Set<string> {
  const entry = "bin/berth.js";
  const commands = [...read(entry).matchAll(/"(\.\.\/[^"]+\.ts)"/g)].map((m) => join("bin", m[1]!));
  assert.ok(commands.length >= 2, "bin/berth.js names its command entry points");
  const seen = new Set<string>();
  const queue = [entry, ...commands].map((p) => relative(ROOT, resolve(ROOT, p)));
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
function dockerignored(path: string): boolean {
  const patterns = read(".dockerignore").split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
  assert.ok(patterns.every((p) => !p.startsWith("!")), "no re-includes: every rule excludes");
  const first = path.split("/")[0]!;
  return patterns.some((p) => (p.startsWith("*.") ? path.endsWith(p.slice(1)) : p.replace(/\/$/, "") === first));
}

describe("packaging", () => {
  const stages = parseDockerfile(read("Dockerfile"));
  const runtime = stages.at(-1)!;

  test("packaging - the Dockerfile has a dependency stage and a runtime stage that runs as a non-root user", () => {
    assert.ok(stages.length >= 2, "multi-stage");
    const users = ops(runtime, "USER");
    assert.equal(users.length, 1, "the runtime stage sets USER once");
    const { uid, gid } = runtimeUser(runtime);
    assert.ok(uid > 0, `runtime uid ${uid} is not root`);
    assert.ok(gid > 0, `runtime gid ${gid} is not root`);
    const entrypoint = JSON.parse(ops(runtime, "ENTRYPOINT")[0]!.args) as string[];
    assert.deepEqual(entrypoint, ["node", `${workdir(runtime)}/bin/berth.js`], "one entry point picks the process");
    const cmd = JSON.parse(ops(runtime, "CMD")[0]!.args) as string[];
    assert.ok(["emitter", "handler"].includes(cmd[0]!), `default command ${cmd[0]} is a process`);
  });

  test("packaging - only production dependencies are installed, and only in the dependency stage", () => {
    const runs = stages.flatMap((s) => ops(s, "RUN"));
    assert.equal(runs.length, 1, "one RUN: the install");
    const [install] = runs;
    assert.match(install!.args, /^npm ci\b/);
    assert.match(install!.args, /\s--omit=dev\b/);
    assert.notEqual(install!.stage, stages.length - 1, "the runtime stage installs nothing itself");
    const deps = stages[install!.stage]!;
    const copied = ops(deps, "COPY").flatMap((c) => parseCopy(c.args).sources);
    assert.deepEqual(copied.sort(), ["package-lock.json", "package.json"], "the install sees only the manifest and lockfile");
    const fromDeps = ops(runtime, "COPY").map((c) => parseCopy(c.args)).filter((c) => c.from !== undefined);
    assert.deepEqual(fromDeps, [{ from: deps.name, sources: [`${workdir(deps)}/node_modules`], dest: "./node_modules" }]);
    const pkg = JSON.parse(read("package.json")) as { dependencies: Record<string, string> };
    assert.ok("tsx" in pkg.dependencies, "tsx runs the TypeScript at run time, so it is a production dependency");
  });

  test("packaging - the runtime stage copies exactly the directories bin/berth.js reaches, and package.json", () => {
    const fromContext = ops(runtime, "COPY").map((c) => parseCopy(c.args)).filter((c) => c.from === undefined).flatMap((c) => c.sources);
    const reached = new Set([...runtimeFiles()].map((f) => f.split("/")[0]!));
    assert.ok(!reached.has("test") && !reached.has("bench"), `runtime code imports no test code (${[...reached].join(", ")})`);
    assert.deepEqual(new Set(fromContext), new Set([...reached, "package.json"]));
    for (const source of fromContext) assert.ok(!dockerignored(source), `${source} is in the build context`);
  });

  test("packaging - .dockerignore keeps node_modules, tests and the git history out of the build context", () => {
    for (const path of ["node_modules", "test", ".git", "bench", "node_modules/tsx/package.json", "test/podman.test.ts"]) {
      assert.ok(dockerignored(path), `${path} is excluded`);
    }
  });

  describe("packaging - the production layout", () => {
    let dir = "";
    let app = "";
    const env = () => ({
      PATH: process.env.PATH ?? "",
      TMPDIR: join(dir, "tmp"), // tsx's compile cache goes here, not into the machine's /tmp
      ...Object.fromEntries(ops(runtime, "ENV").map((e) => e.args.split("=", 2) as [string, string])),
    });
    /** `node bin/berth.js …` in the layout, as the Dockerfile's USER when this process may switch to it. */
    const berth = (args: string[], extra: Record<string, string> = {}) => {
      const r = spawnSync(process.execPath, [join(app, "bin/berth.js"), ...args], {
        cwd: app,
        env: { ...env(), ...extra },
        encoding: "utf8",
        timeout: 30_000,
        ...(isRoot() ? runtimeUser(runtime) : {}),
      });
      return { code: r.status, out: r.stdout, err: r.stderr };
    };

    before(() => {
      dir = mkdtempSync("/tmp/berth-packaging-");
      registerCleanup(`packaging layout (${dir})`, async () => rmSync(dir, { recursive: true, force: true }));
      chmodSync(dir, 0o755);
      mkdirSync(join(dir, "tmp"), { mode: 0o1777 });
      chmodSync(join(dir, "tmp"), 0o1777);
      // Each stage's WORKDIR becomes a directory of its own; COPY and RUN are carried out as written.
      const roots = new Map<string, string>();
      stages.forEach((stage, i) => {
        const root = join(dir, `stage${i}`);
        mkdirSync(root);
        if (stage.name) roots.set(stage.name, root);
        const base = join(root, workdir(stage));
        mkdirSync(base, { recursive: true });
        for (const ins of stage.instructions) {
          if (ins.op === "COPY") {
            const { from, sources, dest } = parseCopy(ins.args);
            for (const source of sources) {
              const origin = from === undefined ? join(ROOT, source) : join(roots.get(from)!, source);
              const target = dest.endsWith("/") ? join(base, dest, source.split("/").at(-1)!) : join(base, dest);
              cpSync(origin, target, { recursive: true });
            }
          } else if (ins.op === "RUN") {
            // From the npm cache this machine's own `npm ci` filled: no network.
            const r = spawnSync("sh", ["-c", ins.args], { cwd: base, encoding: "utf8", env: { ...process.env, npm_config_offline: "true" }, timeout: 180_000 });
            assert.equal(r.status, 0, `RUN ${ins.args} failed: ${r.stderr}`);
          }
        }
        app = base;
      });
    });
    after(cleanupAll);

    test("packaging - node_modules holds the production dependencies and none of the development ones", () => {
      const pkg = JSON.parse(read("package.json")) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
      for (const name of Object.keys(pkg.dependencies)) assert.ok(existsSync(join(app, "node_modules", name, "package.json")), `${name} installed`);
      for (const name of Object.keys(pkg.devDependencies)) assert.ok(!existsSync(join(app, "node_modules", name)), `${name} not installed`);
      assert.deepEqual(readdirSync(app).sort(), ["bin", "cli", "common", "emitter", "handler", "node_modules", "package.json", "schemas"]);
    });

    test("packaging - the handler starts from the layout and rejects a bad configuration with exit 2 and every problem", () => {
      const r = berth(["handler"], { BERTH_CONSUL_AGENTS: "node1", BERTH_HANDLER_CONCURRENCY: "0" });
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, /^handler: invalid configuration:/);
      assert.match(r.err, /BERTH_CONSUL_AGENTS/);
      assert.match(r.err, /BERTH_HANDLER_CONCURRENCY/);
    });

    test("packaging - the emitter starts from the layout and rejects a bad configuration with exit 2", () => {
      const r = berth(["emitter"], { DOCKER_HOST: "ftp://docker", BERTH_HOST_IP: "not-an-ip" });
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, /^emitter: invalid configuration:/);
      assert.match(r.err, /DOCKER_HOST/);
      assert.match(r.err, /BERTH_HOST_IP must be an IP address/);
    });

    test("packaging - the CLI commands run from the layout; an unknown command prints the usage", () => {
      const explain = berth(["explain", "--help"]);
      assert.equal(explain.code, 0, explain.err);
      assert.match(explain.out + explain.err, /usage: berth explain <container>/);
      const status = berth(["status", "--help"]);
      assert.equal(status.code, 0, status.err);
      assert.match(status.out + status.err, /usage: berth status/);
      const unknown = berth(["registrator"]);
      assert.equal(unknown.code, 2);
      assert.match(unknown.err, /usage: berth <emitter\|handler\|explain\|status>/);
    });
  });
});
