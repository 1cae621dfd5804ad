// SIGTERM/SIGINT at any moment — while the emitter waits for Docker, while either process waits
// for NATS or for JetStream — ends the process at once: exit 0, no stack. The waits are said in
// the log (JSON under LOG_FORMAT=json) with a hint, and when they are over; NATS going away and
// coming back is one line each; what each process resolved is said once, and a look-alike
// variable is named. The example systemd units verify. Real processes on the real entry points.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test, type TestContext } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { startBerth, type BerthProcess } from "./berth-process.ts";
import { cleanupAll, registerCleanup } from "./harness/cleanup.ts";
import { canStartNatsServer, startNatsServer } from "./harness/nats.ts";
import { requireOrSkip } from "./harness/prereq.ts";

after(cleanupAll);

const removeDir = (dir: string) => {
  rmSync(dir, { recursive: true, force: true });
  return Promise.resolve();
};

const NO_DOCKER = "unix:///nonexistent/docker.sock";
const NO_NATS = "nats://127.0.0.1:9";
/** A stop is "at once" well within this: the processes' own backstop is 10 s (common/main.ts). */
const STOP_BOUND_MS = 3_000;

/** Sends `signal` and waits for the exit, at most STOP_BOUND_MS: exit 0, and nothing on stderr (no stack). */
async function stopsCleanly(p: BerthProcess, signal: NodeJS.Signals) {
  process.kill(p.pid, signal);
  const exit = await Promise.race([p.exited, sleep(STOP_BOUND_MS).then(() => "still running" as const)]);
  await p.stop("SIGKILL");
  assert.deepEqual(exit, { code: 0, signal: null }, p.stderr.join("\n"));
  assert.deepEqual(p.stderr, [], "no stack, no line outside the log");
  assert.ok(
    p.logs.some((l) => l.msg === "draining" && l["signal"] === signal),
    "the stop is said in the log",
  );
}

const natsPrereq = (t: TestContext) => requireOrSkip(t, "nats-server", canStartNatsServer());

describe("signals while waiting", () => {
  test("signals - SIGTERM while the emitter waits for Docker: the wait said once with a hint, in JSON; exit 0 at once", async () => {
    const emitter = await startBerth("emitter", { DOCKER_HOST: NO_DOCKER, NATS_URL: NO_NATS, LOG_FORMAT: "json" });
    const waiting = await emitter.waitForLog((l) => l.msg === "waiting for Docker", "the emitter waiting for Docker");
    assert.equal(waiting.level, "warn");
    assert.equal(waiting["reason"], "connect ENOENT /nonexistent/docker.sock");
    assert.match(String(waiting["hint"]), /start dockerd, or set DOCKER_HOST to where it listens/);
    await stopsCleanly(emitter, "SIGTERM");
    assert.equal(emitter.logs.filter((l) => l.msg === "waiting for Docker").length, 1, "said once, not once a second");
  });

  test("signals - SIGINT while the emitter waits for NATS, SIGTERM while a handler does: exit 0 at once", async () => {
    const emitter = await startBerth("emitter", { BERTH_NODE: "node1", DOCKER_HOST: NO_DOCKER, NATS_URL: NO_NATS, LOG_FORMAT: "json" });
    const handler = await startBerth("handler", { NATS_URL: NO_NATS, LOG_FORMAT: "json" });
    for (const p of [emitter, handler]) {
      const waiting = await p.waitForLog((l) => l.msg === "waiting for NATS", "waiting for NATS");
      assert.match(String(waiting["hint"]), /is nats-server running \(with -js, JetStream\) at NATS_URL=nats:\/\/127\.0\.0\.1:9\?/);
    }
    await stopsCleanly(emitter, "SIGINT");
    await stopsCleanly(handler, "SIGTERM");
  });

  test("signals - SIGTERM while a handler waits for JetStream (an account without it): the hint names -js; exit 0 at once", async (t) => {
    if (!natsPrereq(t)) return;
    const nats = await startNatsServer({ config: 'accounts { NOJS: { users: [{ user: "nojs", password: "nojs-secret" }] } }' });
    const handler = await startBerth("handler", {
      NATS_URL: nats.url,
      NATS_USER: "nojs",
      NATS_PASSWORD: "nojs-secret",
      LOG_FORMAT: "json",
    });
    const waiting = await handler.waitForLog((l) => l.msg === "waiting for JetStream", "waiting for JetStream");
    assert.match(String(waiting["waiting_for"]), /JetStream not enabled/i);
    assert.match(String(waiting["hint"]), /start nats-server with -js/);
    await stopsCleanly(handler, "SIGTERM");
  });
});

describe("what the log says", () => {
  test("logs - the end of a wait for NATS, a disconnect and a reconnect: one line each, naming the server; what was resolved, once", async (t) => {
    if (!natsPrereq(t)) return;
    const nats = await startNatsServer();
    const server = `127.0.0.1:${nats.port}`;
    let handler: BerthProcess | undefined;
    const env = { NATS_URL: nats.url, LOG_FORMAT: "json", BERTH_PREFIX: "sig" };
    await nats.restart({
      whileDown: async () => {
        handler = await startBerth("handler", {
          ...env,
          BERTH_CONSUL_AGENTS: "node1=http://127.0.0.1:9",
          BERTH_CONSUL_AGENT: "node2=http://127.0.0.1:9", // one letter short: not read, and said so
        });
        await handler.waitForLog((l) => l.msg === "waiting for NATS", "the handler waiting for NATS");
      },
    });
    assert.ok(handler);
    await handler.waitForLog((l) => l.msg === "NATS answered: waiting is over", "the end of the wait", 30_000);
    const started = await handler.waitForLog((l) => l.msg === "started", "the handler started", 30_000);
    assert.equal(started["agents_from"], "BERTH_CONSUL_AGENTS");
    assert.deepEqual(started["agents"], { node1: "http://127.0.0.1:9" });
    const stranger = handler.logs.find((l) => l["variable"] === "BERTH_CONSUL_AGENT");
    assert.equal(stranger?.level, "warn");
    assert.equal(stranger.msg, "BERTH_CONSUL_AGENT is not a variable berth reads; did you mean BERTH_CONSUL_AGENTS?");

    const emitter = await startBerth("emitter", { ...env, BERTH_NODE: "node1", DOCKER_HOST: NO_DOCKER });
    const emitterStarted = await emitter.waitForLog((l) => l.msg === "started", "the emitter started", 30_000);
    assert.equal(emitterStarted["node"], "node1");
    assert.equal(emitterStarted["node_from"], "BERTH_NODE");

    const both = [handler, emitter];
    await nats.restart({
      whileDown: async () => {
        for (const p of both) {
          const line = await p.waitForLog((l) => l.msg === "NATS disconnected: reconnecting", "NATS disconnected");
          assert.equal(line["server"], server);
        }
      },
    });
    for (const p of both) {
      const line = await p.waitForLog((l) => l.msg === "NATS reconnected", "NATS reconnected", 30_000);
      assert.equal(line["server"], server);
      assert.equal(p.logs.filter((l) => l.msg.startsWith("NATS disconnected")).length, 1, "one line for the disconnect");
      assert.equal(p.logs.filter((l) => l.msg === "started").length, 1, "the resolved settings said once");
    }
    await stopsCleanly(emitter, "SIGTERM");
    await stopsCleanly(handler, "SIGTERM");
  });
});

describe("process managers", () => {
  const analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].find((p) => existsSync(p));
  const examples = join(import.meta.dirname, "..", "examples");

  test("systemd - the example units for the emitter and a handler verify with systemd-analyze", (t) => {
    // Outside CI a machine without systemd (a container) skips; .ci/run installs Debian's systemd package.
    if (!requireOrSkip(t, "systemd-analyze (Debian's systemd package)", analyze !== undefined) || analyze === undefined) return;
    const units = readdirSync(examples).filter((f) => f.endsWith(".service"));
    assert.deepEqual(units.sort(), ["berth-emitter.service", "berth-handler@.service"]);
    const dir = mkdtempSync("/tmp/berth-units-");
    registerCleanup(`units (${dir})`, () => removeDir(dir));
    // A template is verified as one of its instances.
    const copies = units.map((u) => {
      const copy = join(dir, u.replace("@.service", "@1.service"));
      copyFileSync(join(examples, u), copy);
      return copy;
    });
    const r = spawnSync(analyze, ["verify", ...copies], { encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    assert.equal(r.stderr.trim(), "", "no warning either");
  });
});
