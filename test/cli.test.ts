// `berth` as a command: --version, each command's --help (nothing started), an unknown command,
// the one line an old Node gets from every entry point and from `npm ci`, and `berth` installed
// onto PATH from the clone. Real processes on the real entry points.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import { startLoggingProcess } from "./berth-process.ts";
import { cleanupAll, registerCleanup } from "./harness/cleanup.ts";
import { requireOrSkip } from "./harness/prereq.ts";

after(cleanupAll);

const removeDir = (dir: string) => {
  rmSync(dir, { recursive: true, force: true });
  return Promise.resolve();
};

const ROOT = join(import.meta.dirname, "..");
const BIN = join(ROOT, "bin/berth.js");
const PKG = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  version: string;
  engines: { node: string };
  scripts: Record<string, string>;
};
/** Node 26 first on PATH, nothing else of this process's environment: no NATS, no Docker reachable. */
const ENV = {
  PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
  NATS_URL: "nats://127.0.0.1:9",
  DOCKER_HOST: "unix:///nonexistent/docker.sock",
};

function run(command: string, args: string[], env: Record<string, string> = ENV, cwd = ROOT) {
  const r = spawnSync(command, args, { cwd, env, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const berth = (...args: string[]) => run(process.execPath, [BIN, ...args]);

describe("cli", () => {
  test("cli - berth --version prints berth's version and Node's, exit 0", () => {
    for (const flag of ["--version", "-v", "version"]) {
      const r = berth(flag);
      assert.equal(r.code, 0, r.err);
      assert.equal(r.out, `berth ${PKG.version} (Node ${process.version})\n`);
    }
  });

  test("cli - berth emitter|handler --help prints the process's variables and starts nothing, exit 0", () => {
    for (const kind of ["emitter", "handler"]) {
      const r = berth(kind, "--help");
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, new RegExp(`^usage: berth ${kind}\\n`));
      assert.match(r.out, /\n {2}NATS_URL\n {6}NATS server URL\(s\), comma-separated \(default: nats:\/\/127\.0\.0\.1:4222\)\n/);
      assert.match(r.out, kind === "emitter" ? /\n {2}BERTH_NODE\n/ : /\n {2}BERTH_CONSUL_AGENTS\n/);
      assert.equal(r.err, "", "started nothing: no wait for NATS or Docker, no log line");
    }
    const extra = berth("handler", "--concurrency", "4");
    assert.equal(extra.code, 2);
    assert.match(extra.err, /^berth handler: takes no arguments, got "--concurrency 4": it is configured by environment variables/);
  });

  test("cli - an unknown command is named, with the usage, exit 2; the usage asked for is on stdout, exit 0", () => {
    const r = berth("frobnicate");
    assert.equal(r.code, 2);
    assert.match(r.err, /^berth: unknown command 'frobnicate'\nusage: berth <emitter\|handler\|explain\|status>/);
    const none = berth();
    assert.equal(none.code, 2);
    assert.match(none.err, /^berth: no command given\nusage:/);
    const help = berth("--help");
    assert.equal(help.code, 0);
    assert.match(help.out, /^usage: berth <emitter\|handler\|explain\|status>.*\n {7}berth --version\n$/);
  });

  test("cli - npm run emitter|handler and the berth bin run in one process: a process manager's signal reaches berth", async () => {
    assert.equal(PKG.scripts["emitter"], "node bin/berth.js emitter");
    assert.equal(PKG.scripts["handler"], "node bin/berth.js handler");
    const handler = await startLoggingProcess("berth handler", [BIN, "handler"], { ...ENV, LOG_FORMAT: "json" });
    const waiting = await handler.waitForLog((l) => l.msg === "waiting for NATS", "the handler waiting for NATS");
    assert.equal(waiting["worker"], String(handler.pid), "the process started is the handler itself, no child");
    assert.deepEqual(await handler.stop("SIGTERM"), { code: 0, signal: null });
  });
});

/** The Node check as a Node of `version` would run it: process.versions.node replaced before anything runs. */
const asNode = (version: string) => `data:text/javascript,Object.defineProperty(process.versions,"node",{value:"${version}"})`;
const NEEDS = `berth needs Node ${PKG.engines.node}, found Node`;

describe("cli - an older Node", () => {
  test("node check - on a Node older than engines, bin/berth.js says in one line which Node it needs and which it found, exit 1", () => {
    const minimum = PKG.engines.node.replace(/^>=/, "");
    const [major = 0, minor = 0] = minimum.split(".").map(Number);
    const older = `${major}.${minor - 1}.9`;
    const r = run(process.execPath, ["--import", asNode(older), BIN, "emitter"]);
    assert.equal(r.code, 1);
    assert.equal(
      r.err,
      `${NEEDS} ${older} (${process.execPath}): install Node ${readFileSync(join(ROOT, ".nvmrc"), "utf8").trim()} (.nvmrc), see README\n`,
    );
    assert.equal(r.out, "");
    for (const ok of [`${major}.${minor}.0`, `${major + 1}.0.0`]) {
      const fine = run(process.execPath, ["--import", asNode(ok), BIN, "--version"]);
      assert.equal(fine.code, 0, `${ok}: ${fine.err}`);
    }
  });

  /** The machine's own Node (Debian's), when it is older than engines: the real thing, not a stand-in. */
  const systemNode = "/usr/bin/node";
  const systemVersion = existsSync(systemNode) ? run(systemNode, ["--version"]).out.trim().replace(/^v/, "") : "";
  const systemIsOlder =
    systemVersion !== "" && Number(systemVersion.split(".")[0]) < Number(PKG.engines.node.replace(/^>=/, "").split(".")[0]);
  const oldEnv = { PATH: "/usr/bin:/bin", NATS_URL: ENV.NATS_URL };

  test("node check - the machine's older Node: berth, npm run emitter|handler and npm ci each fail with the same one line", (t) => {
    if (!requireOrSkip(t, `a Node older than ${PKG.engines.node} at ${systemNode} (found: ${systemVersion || "none"})`, systemIsOlder))
      return;
    const line = `${NEEDS} ${systemVersion} (${systemNode})`;
    const direct = run(systemNode, [BIN, "handler"], oldEnv);
    assert.equal(direct.code, 1);
    assert.ok(direct.err.startsWith(line), direct.err);
    assert.equal(direct.err.trim().split("\n").length, 1, "one line, no stack");
    for (const kind of ["emitter", "handler"]) {
      const r = run("/usr/bin/npm", ["run", "--silent", kind], oldEnv);
      assert.notEqual(r.code, 0);
      assert.ok(r.err.includes(line), `npm run ${kind}: ${r.err}`);
      assert.ok(!r.err.includes("ERR_UNKNOWN_FILE_EXTENSION"), r.err);
    }
    // npm ci in a copy of what it reads: the preinstall script stops it with the same line.
    const dir = mkdtempSync("/tmp/berth-npm-ci-");
    registerCleanup(`npm ci copy (${dir})`, () => removeDir(dir));
    for (const path of ["package.json", "package-lock.json", ".nvmrc", "bin/node-check.js"]) cpSync(join(ROOT, path), join(dir, path));
    const ci = run("/usr/bin/npm", ["ci", "--offline", "--no-audit", "--no-fund"], oldEnv, dir);
    assert.notEqual(ci.code, 0);
    assert.ok(ci.err.includes(`${NEEDS} ${systemVersion} (${systemNode})`), ci.err + ci.out);
  });
});

describe("cli - berth onto PATH", () => {
  test("install - npm install -g from the clone puts berth on PATH, running the clone's sources in one process", () => {
    const prefix = mkdtempSync("/tmp/berth-global-");
    registerCleanup(`global prefix (${prefix})`, () => removeDir(prefix));
    const install = run("npm", ["install", "-g", "--ignore-scripts", "--offline", "--prefix", prefix, "."]);
    assert.equal(install.code, 0, install.err);
    const elsewhere = mkdtempSync("/tmp/berth-cwd-");
    registerCleanup(`cwd (${elsewhere})`, () => removeDir(elsewhere));
    const r = run("berth", ["--version"], { ...ENV, PATH: `${prefix}/bin:${ENV.PATH}` }, elsewhere);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, `berth ${PKG.version} (Node ${process.version})\n`);
  });
});
