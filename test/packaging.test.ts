// The image, without building it (no registry here, so no base image): the Dockerfile is read
// instruction by instruction and checked (a build stage, non-root runtime, production dependencies
// only, only the build is copied), then its COPY and RUN lines are carried out in a temp dir —
// `npm ci` from the local npm cache, offline; `npm run build` — and the result is run as the
// Dockerfile's USER, as the image would run it.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { imageNodeArgs, npmRunArgs, startBerth } from "./berth-process.ts";
import { registerCleanup, cleanupAll } from "./harness/cleanup.ts";
import { isRoot } from "./harness/prereq.ts";
import { waitFor } from "./harness/wait.ts";
import { startPipeline } from "./pipeline/index.ts";

const ROOT = resolve(import.meta.dirname, "..");
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");

type Instruction = { op: string; args: string; stage: number };
type Stage = { name: string | undefined; instructions: Instruction[] };

/** Dockerfile → stages of instructions (comments dropped, `\` continuations joined, ARG defaults substituted in FROM). */
function parseDockerfile(text: string): Stage[] {
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

/** tsconfig.build.json (comment lines dropped): the build's entry and output directory. */
type BuildConfig = { include: string[]; compilerOptions: { outDir: string; rewriteRelativeImportExtensions?: boolean } };
function buildConfig(): BuildConfig {
  return JSON.parse(
    read("tsconfig.build.json")
      .split("\n")
      .filter((l) => !l.trim().startsWith("//"))
      .join("\n"),
  ) as BuildConfig;
}
const BUILD_ENTRY = "bin/berth-main.ts";
/** The image's ENTRYPOINT: node with each process's flags, then the build of BUILD_ENTRY. */
const ENTRY_SCRIPT = "bin/entrypoint.sh";

/** Every .ts file reachable through relative imports (static and import()) from the build's entry. */
function runtimeFiles(): Set<string> {
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
function dockerignored(path: string): boolean {
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
function walk(dir: string, prefix = ""): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(dir, join(prefix, e.name)) : [join(prefix, e.name)],
  );
}

/** The stage a COPY --from names, by name or index. */
const stageNamed = (stages: Stage[], name: string) => stages.find((s, i) => s.name === name || String(i) === name);

describe("packaging", () => {
  const stages = parseDockerfile(read("Dockerfile"));
  const runtime = stages.at(-1)!;
  const outDir = buildConfig().compilerOptions.outDir;
  /** The image's entry: the build's output of bin/berth-main.ts. */
  const builtEntry = join(outDir, BUILD_ENTRY.replace(/\.ts$/, ".js"));
  const runtimeCopies = () => ops(runtime, "COPY").map((c) => parseCopy(c.args));

  test("packaging - the Dockerfile has a build stage and a runtime stage that runs the build as a non-root user", () => {
    assert.ok(stages.length >= 2, "multi-stage");
    const users = ops(runtime, "USER");
    assert.equal(users.length, 1, "the runtime stage sets USER once");
    const { uid, gid } = runtimeUser(runtime);
    assert.ok(uid > 0, `runtime uid ${uid} is not root`);
    assert.ok(gid > 0, `runtime gid ${gid} is not root`);
    const entrypoint = JSON.parse(ops(runtime, "ENTRYPOINT")[0]!.args) as string[];
    assert.deepEqual(entrypoint, [`${workdir(runtime)}/${ENTRY_SCRIPT}`], "one entry point, which picks the process");
    // The script runs the compiled entry with node, from where the runtime stage puts it.
    assert.ok(read(ENTRY_SCRIPT).includes(`"$(dirname "$0")/../${builtEntry}"`), `${ENTRY_SCRIPT} runs ${builtEntry}`);
    const cmd = JSON.parse(ops(runtime, "CMD")[0]!.args) as string[];
    assert.ok(["emitter", "handler"].includes(cmd[0]!), `default command ${cmd[0]} is a process`);
    const config = buildConfig();
    assert.deepEqual(config.include, [BUILD_ENTRY], "the build starts from the entry and follows its imports");
    assert.equal(config.compilerOptions.rewriteRelativeImportExtensions, true, "the output imports .js, not .ts");
  });

  test("packaging - the runtime stage installs nothing and copies only production dependencies and the build", () => {
    assert.equal(ops(runtime, "RUN").length, 0, "the runtime stage runs nothing itself");
    const fromStages = runtimeCopies().filter((c) => c.from !== undefined);
    assert.deepEqual(
      fromStages.map((c) => [c.sources, c.dest]),
      [
        [["/app/node_modules"], "./node_modules"],
        [[`/app/${outDir}`], `./${outDir}`],
      ],
    );
    const [modules, build] = fromStages.map((c) => stageNamed(stages, c.from!)!);
    // node_modules: from a stage that saw only the manifest and lockfile and installed without dev dependencies.
    const installs = ops(modules!, "RUN");
    assert.equal(installs.length, 1, "the dependency stage runs one install");
    assert.match(installs[0]!.args, /^npm ci\b/);
    assert.match(installs[0]!.args, /\s--omit=dev\b/);
    assert.deepEqual(
      ops(modules!, "COPY")
        .flatMap((c) => parseCopy(c.args).sources)
        .sort(),
      ["package-lock.json", "package.json"],
    );
    assert.equal(workdir(modules!), "/app");
    // dist/: built by `npm run build` after a full install (the compiler and the schema types are dev dependencies).
    assert.deepEqual(
      ops(build!, "RUN").map((r) => r.args.split(/\s+/).slice(0, 3).join(" ")),
      ["npm ci --ignore-scripts", "npm run build"],
    );
    assert.equal(workdir(build!), "/app");
    const pkg = JSON.parse(read("package.json")) as { dependencies: Record<string, string>; scripts: Record<string, string> };
    assert.match(pkg.scripts.build!, /\btsc -p tsconfig\.build\.json\b/);
    for (const name of ["tsx", "typescript", "json-schema-to-ts"])
      assert.ok(!(name in pkg.dependencies), `${name} is not needed at run time`);
  });

  test("packaging - the build stage copies exactly the directories bin/berth-main.ts reaches and the build's configuration; the runtime stage copies package.json", () => {
    const build = stageNamed(stages, runtimeCopies().find((c) => c.from !== undefined && c.dest === `./${outDir}`)!.from!)!;
    const fromContext = ops(build, "COPY")
      .map((c) => parseCopy(c.args))
      .filter((c) => c.from === undefined)
      .flatMap((c) => c.sources);
    const reached = new Set([...runtimeFiles()].map((f) => f.split("/")[0]!));
    assert.ok(!reached.has("test") && !reached.has("bench"), `runtime code imports no test code (${[...reached].join(", ")})`);
    assert.deepEqual(
      new Set(fromContext),
      new Set([...reached, "package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json"]),
    );
    const runtimeFromContext = runtimeCopies()
      .filter((c) => c.from === undefined)
      .flatMap((c) => c.sources);
    assert.deepEqual(
      runtimeFromContext,
      ["package.json", ENTRY_SCRIPT],
      'the runtime stage takes only package.json ("type": "module") and the entry script from the sources',
    );
    for (const source of [...fromContext, ...runtimeFromContext]) assert.ok(!dockerignored(source), `${source} is in the build context`);
  });

  test("packaging - .dockerignore keeps node_modules, a local build, tests and the git history out of the build context", () => {
    for (const path of [
      "node_modules",
      "dist",
      "test",
      ".git",
      "bench",
      "node_modules/tsx/package.json",
      "dist/bin/berth-main.js",
      "test/podman.test.ts",
    ]) {
      assert.ok(dockerignored(path), `${path} is excluded`);
    }
  });

  describe("packaging - the production layout", () => {
    let dir = "";
    let app = "";
    const env = () => ({
      // The entry script runs `node` from PATH: this one first, as the image's base has its own.
      PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}`,
      TMPDIR: join(dir, "tmp"),
      ...Object.fromEntries(ops(runtime, "ENV").map((e) => e.args.split("=", 2) as [string, string])),
    });
    const user = () => (isRoot() ? runtimeUser(runtime) : undefined);
    /** The image's ENTRYPOINT in the layout, as the Dockerfile's USER when this process may switch to it. */
    const berth = (args: string[], extra: Record<string, string> = {}) => {
      const r = spawnSync(join(app, ENTRY_SCRIPT), args, {
        cwd: app,
        env: { ...env(), ...extra },
        encoding: "utf8",
        timeout: 30_000,
        ...user(),
      });
      return { code: r.status, out: r.stdout, err: r.stderr };
    };

    before(() => {
      dir = mkdtempSync("/tmp/berth-packaging-");
      registerCleanup(`packaging layout (${dir})`, () => {
        rmSync(dir, { recursive: true, force: true });
        return Promise.resolve();
      });
      chmodSync(dir, 0o755);
      mkdirSync(join(dir, "tmp"), { mode: 0o1777 });
      chmodSync(join(dir, "tmp"), 0o1777);
      // Each stage's WORKDIR becomes a directory of its own; COPY and RUN are carried out as written.
      const roots = new Map<string, string>();
      stages.forEach((stage, i) => {
        const root = join(dir, `stage${i}`);
        mkdirSync(root);
        roots.set(String(i), root);
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
            const r = spawnSync("sh", ["-c", ins.args], {
              cwd: base,
              encoding: "utf8",
              env: { ...process.env, npm_config_offline: "true" },
              timeout: 180_000,
            });
            assert.equal(r.status, 0, `RUN ${ins.args} failed: ${r.stderr}${r.stdout}`);
          }
        }
        app = base;
      });
    });
    after(cleanupAll);

    test("packaging - node_modules holds the production dependencies and none of the development ones; the layout is the build and package.json", () => {
      const pkg = JSON.parse(read("package.json")) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
      for (const name of Object.keys(pkg.dependencies))
        assert.ok(existsSync(join(app, "node_modules", name, "package.json")), `${name} installed`);
      for (const name of Object.keys(pkg.devDependencies)) assert.ok(!existsSync(join(app, "node_modules", name)), `${name} not installed`);
      assert.deepEqual(readdirSync(app).sort(), [outDir, "bin", "node_modules", "package.json"].sort());
      assert.deepEqual(readdirSync(join(app, "bin")), ["entrypoint.sh"]);
    });

    test("packaging - the build holds JavaScript for the runtime code only, importing only Node's modules and production dependencies", () => {
      const files = walk(join(app, outDir));
      const expected = [...runtimeFiles()].map((f) => f.replace(/\.ts$/, ".js")).sort();
      assert.deepEqual(files.sort(), expected, "one .js per source the entry reaches, nothing else (no tests, no bench)");
      const pkg = JSON.parse(read("package.json")) as { dependencies: Record<string, string> };
      const packages = new Set<string>();
      for (const file of files) {
        for (const m of readFileSync(join(app, outDir, file), "utf8").matchAll(
          /(?:^|[\s;])(?:from\s*|import\s*\(\s*|import\s+)"([^"]+)"/gm,
        )) {
          const spec = m[1]!;
          if (spec.startsWith(".")) {
            assert.ok(spec.endsWith(".js"), `${file} imports ${spec}: relative imports are rewritten to .js`);
            assert.ok(existsSync(resolve(app, outDir, dirname(file), spec)), `${file} imports ${spec}, which the build holds`);
          } else if (!spec.startsWith("node:"))
            packages.add(
              spec
                .split("/")
                .slice(0, spec.startsWith("@") ? 2 : 1)
                .join("/"),
            );
        }
      }
      assert.ok(packages.size > 0, "the scan finds the package imports");
      for (const name of packages) assert.ok(name in pkg.dependencies, `${name} is imported at run time, so it is a production dependency`);
      assert.ok(!packages.has("json-schema-to-ts") && !packages.has("tsx"), "type-only imports vanish, nothing registers tsx");
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

    test("packaging - the entry script runs the emitter with its own node flags, the handler without; npm run runs one node on the sources", async () => {
      assert.deepEqual(imageNodeArgs("emitter"), ["--lite-mode"]);
      assert.deepEqual(imageNodeArgs("handler"), []);
      // No launcher process and no flag: lite mode has no WebAssembly, which Node's type stripping needs.
      assert.deepEqual(npmRunArgs("emitter"), ["emitter/main.ts"]);
      assert.deepEqual(npmRunArgs("handler"), ["handler/main.ts"]);
      // The process itself: sh hands over to node (same pid), which waits for a NATS that is not there.
      for (const kind of ["emitter", "handler"] as const) {
        const child = spawn(join(app, ENTRY_SCRIPT), [kind], {
          cwd: app,
          env: { ...env(), NATS_URL: "nats://127.0.0.1:9", BERTH_NODE: "node1", BERTH_CONSUL_AGENTS: "node1=http://127.0.0.1:9" },
          stdio: "ignore",
          ...user(),
        });
        const exited = new Promise((resolve) => child.once("exit", resolve));
        registerCleanup(`packaging ${kind} (pid ${child.pid})`, async () => {
          child.kill("SIGKILL");
          await exited;
        });
        const cmdline = () => readFileSync(`/proc/${child.pid}/cmdline`, "utf8").split("\0").filter(Boolean);
        await waitFor(() => cmdline().some((a) => a.endsWith(builtEntry)), { what: `${kind}: node runs the build`, timeoutMs: 10_000 });
        const args = cmdline();
        assert.deepEqual(
          args.slice(
            1,
            args.findIndex((a) => a.endsWith(builtEntry)),
          ),
          imageNodeArgs(kind),
          `${kind}'s node flags`,
        );
        child.kill("SIGTERM");
        await exited;
      }
    });

    test("packaging - the handler from the layout connects to a nats-server, sets up its streams and drains on SIGTERM", async (t) => {
      const p = await startPipeline({ prefix: "pkg" }); // a nats-server only: the handler is the layout's own, started below
      if (!p.ready(t)) return;
      // The test is about the built layout: its entry, run as the image's uid, not the sources the pipeline runs.
      const handler = await startBerth(
        "handler",
        { ...env(), ...p.env(), BERTH_CONSUL_AGENTS: "node1=http://127.0.0.1:9" },
        { entry: join(app, builtEntry), ...(user() ? { user: user()! } : {}) },
      );
      await handler.waitForLog((l) => l.msg === "started", "started", 30_000);
      assert.deepEqual(await handler.stop(), { code: 0, signal: null }, handler.stderr.join("\n"));
    });

    test("packaging - the CLI commands run from the layout; an unknown command prints the usage (exit 2), --help too (exit 0)", () => {
      const explain = berth(["explain", "--help"]);
      assert.equal(explain.code, 0, explain.err);
      assert.match(explain.out + explain.err, /usage: berth explain <container>/);
      const status = berth(["status", "--help"]);
      assert.equal(status.code, 0, status.err);
      assert.match(status.out + status.err, /usage: berth status/);
      const unknown = berth(["registrator"]);
      assert.equal(unknown.code, 2);
      assert.match(unknown.err, /usage: berth <emitter\|handler\|explain\|status>/);
      const help = berth(["--help"]);
      assert.equal(help.code, 0, "the usage asked for is no error");
      assert.match(help.out, /usage: berth <emitter\|handler\|explain\|status>/);
    });
  });
});
