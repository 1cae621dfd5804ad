// The image's layout, without building the image (no registry here, so no base image): the
// Dockerfile's COPY and RUN lines are carried out in a temp dir — `npm ci` from the local npm cache,
// offline; `npm run build` — and the result is run through its entry script as the Dockerfile's
// USER, as the image would run it.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { imageNodeArgs, npmRunArgs, startBerth } from "./berth-process.ts";
import { registerCleanup, cleanupAll } from "./harness/cleanup.ts";
import { isRoot } from "./harness/prereq.ts";
import { waitFor } from "./harness/wait.ts";
import {
  ENTRY_SCRIPT,
  PATH_COMMAND,
  ROOT,
  dockerfile,
  ops,
  parseCopy,
  read,
  runtimeFiles,
  runtimeUser,
  walk,
  workdir,
} from "./packaging-fixture.ts";
import { startPipeline } from "./pipeline/index.ts";

const { stages, runtime, outDir, builtEntry } = dockerfile();

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
            // An absolute destination is in the stage's root, a relative one in its WORKDIR.
            const into = dest.startsWith("/") ? root : base;
            const target = dest.endsWith("/") ? join(into, dest, source.split("/").at(-1)!) : join(into, dest);
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
    // bin/berth.js runs the Node check, then imports the entry into its own process (test/cli.test.ts).
    assert.deepEqual(npmRunArgs("emitter"), ["bin/berth.js", "emitter"]);
    assert.deepEqual(npmRunArgs("handler"), ["bin/berth.js", "handler"]);
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
    const handlerHelp = berth(["handler", "--help"]);
    assert.equal(handlerHelp.code, 0, handlerHelp.err);
    assert.match(handlerHelp.out, /^usage: berth handler\n[^]*\n {2}BERTH_CONSUL_AGENTS\n/);
  });

  test("packaging - berth on the image's PATH runs the entry point: berth --version names berth's version from the layout", () => {
    // The wrapper as the image holds it, its absolute path to the entry point moved into the layout.
    const root = app.slice(0, app.length - workdir(runtime).length); // the runtime stage's root in the layout
    const wrapper = join(root, PATH_COMMAND);
    assert.ok(existsSync(wrapper), `${PATH_COMMAND} is in the layout`);
    const entry = `${workdir(runtime)}/${ENTRY_SCRIPT}`;
    const script = readFileSync(wrapper, "utf8").replace(entry, join(app, ENTRY_SCRIPT));
    const r = spawnSync("sh", ["-c", script, "berth", "--version"], { cwd: app, env: env(), encoding: "utf8", timeout: 30_000, ...user() });
    assert.equal(r.status, 0, r.stderr);
    const pkg = JSON.parse(read("package.json")) as { version: string };
    assert.equal(r.stdout, `berth ${pkg.version} (Node ${process.version})\n`);
  });
});
