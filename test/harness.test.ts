// Tests of the integration-test harness itself, against the real nats-server and dockerd.
// Prerequisites missing → skipped locally, FAILED under CI=true (see test/harness/prereq.ts).
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import type { TestContext } from "node:test";
import { bridgeExists } from "./harness/bridge.ts";
import { cleanupAll, pendingCleanups } from "./harness/cleanup.ts";
import { RUN_LABEL, docker, dockerCli } from "./harness/docker-cli.ts";
import { missingForDockerd, sharedEngine, startDockerd } from "./harness/dockerd.ts";
import { sweepStaleEngines } from "./harness/dockerd-teardown.ts";
import type { PrivateDockerEngine } from "./harness/dockerd.ts";
import { run } from "./harness/exec.ts";
import { httpGet } from "./harness/http.ts";
import { TEST_IMAGE, ensureTestImage } from "./harness/image.ts";
import { mountsUnder } from "./harness/mounts.ts";
import { canStartNatsServer, startNatsServer, sweepStaleNats } from "./harness/nats.ts";
import { natsRequest } from "./harness/nats-probe.ts";
import { canConnect, freePort } from "./harness/ports.ts";
import { requireOrSkip } from "./harness/prereq.ts";
import { isAlive, pidsWithCmdline } from "./harness/proc-scan.ts";
import { waitFor } from "./harness/wait.ts";
import { runChild } from "./harness/emergency-child.ts";
import type { ChildReport } from "./harness/emergency-child.ts";

after(cleanupAll);

const dockerReady = (t: TestContext) => {
  const missing = missingForDockerd();
  return requireOrSkip(t, `a private dockerd needs ${missing.join(", ")}`, missing.length === 0);
};
const natsReady = (t: TestContext) => requireOrSkip(t, "nats-server binary", canStartNatsServer());

test("harness wait - resolves with the first truthy value", async () => {
  let n = 0;
  assert.equal(await waitFor(() => ++n >= 3 && n, { intervalMs: 1 }), 3);
});

test("harness wait - times out naming what and the last error", async () => {
  await assert.rejects(
    waitFor(
      () => {
        throw new Error("boom");
      },
      { timeoutMs: 60, what: "the thing" },
    ),
    /waiting for the thing; last error: Error: boom/,
  );
  await assert.rejects(
    waitFor(() => new Promise<false>(() => {}), { timeoutMs: 50, what: "a hang" }),
    /a hang; probe never completed/,
  );
});

test("harness prereq - skips locally, fails under CI=true", () => {
  const skipped: string[] = [];
  const t = { skip: (why: string) => void skipped.push(why) } as unknown as TestContext;
  const ci = process.env.CI;
  try {
    process.env.CI = "false";
    assert.equal(requireOrSkip(t, "a unicorn", false), false);
    assert.deepEqual(skipped, ["missing prerequisite: a unicorn"]);
    process.env.CI = "true";
    assert.throws(() => requireOrSkip(t, "a unicorn", false), /missing prerequisite: a unicorn \(CI=true/);
    assert.equal(requireOrSkip(t, "a unicorn", true), true);
  } finally {
    if (ci === undefined) delete process.env.CI;
    else process.env.CI = ci;
  }
});

test("harness nats - starts, restarts with the same port and store, stops clean", { timeout: 60_000 }, async (t) => {
  if (!natsReady(t)) return;
  const nats = await startNatsServer({ config: "server_name: berth_harness\n" });
  const varz = JSON.parse((await httpGet(`http://127.0.0.1:${nats.monitorPort}/varz`)).body) as { server_name?: string };
  assert.equal(varz.server_name, "berth_harness");
  const created = await natsRequest(
    nats.port,
    "$JS.API.STREAM.CREATE.HARNESS",
    JSON.stringify({ name: "HARNESS", subjects: ["harness.>"], storage: "file" }),
  );
  assert.doesNotMatch(created, /"error"/);

  const pid = nats.pid;
  const t0 = performance.now();
  await nats.restart();
  t.diagnostic(`nats-server restart: ${Math.round(performance.now() - t0)} ms`);
  assert.notEqual(nats.pid, pid);
  assert.equal(isAlive(pid), false);
  const info = await natsRequest(nats.port, "$JS.API.STREAM.INFO.HARNESS", "");
  assert.match(info, /"name":"HARNESS"/, "the stream survived the restart (same store)");

  const t1 = performance.now();
  await nats.stop();
  t.diagnostic(`nats-server stop: ${Math.round(performance.now() - t1)} ms`);
  assert.equal(isAlive(nats.pid), false);
  assert.equal(existsSync(nats.storeDir), false);
  assert.equal(await canConnect("127.0.0.1", nats.port), false);
  assert.ok(pendingCleanups().every((name) => !name.startsWith("nats-server")));
  await nats.stop(); // idempotent
});

test("harness cleanup - cleanupAll stops what a test left running", { timeout: 30_000 }, async (t) => {
  if (!natsReady(t)) return;
  const nats = await startNatsServer();
  await cleanupAll();
  assert.equal(isAlive(nats.pid), false);
  assert.equal(existsSync(nats.storeDir), false);
});

test("harness dockerd - two private engines side by side, the test image, published ports, clean stop", { timeout: 180_000 }, async (t) => {
  if (!dockerReady(t)) return;
  const port = await freePort("127.0.0.3");
  const t0 = performance.now();
  const [a, b] = await Promise.all([startDockerd({ name: "ha", ip: "127.0.0.3" }), startDockerd({ name: "hb", ip: "127.0.0.4" })]);
  t.diagnostic(`two dockerds started in parallel: ${Math.round(performance.now() - t0)} ms`);
  assert.notEqual(a.bridge, b.bridge);
  assert.notEqual(a.subnet, b.subnet);
  for (const e of [a, b]) {
    assert.ok(pidsWithCmdline(`${e.dir}/`).includes(e.containerdPid), "each engine runs its own containerd");
    assert.ok(existsSync(join(e.dir, "key.json")), "trust key kept out of /etc/docker");
    assert.ok(existsSync(join(e.dir, "data/containerd/opt")), "containerd's opt dir kept out of /opt/containerd");
    assert.equal(await docker(e, "info", "--format", "{{.Driver}}"), "vfs");
  }

  const t1 = performance.now();
  await Promise.all([ensureTestImage(a), ensureTestImage(b)]);
  t.diagnostic(`test image imported on both: ${Math.round(performance.now() - t1)} ms`);
  assert.equal(await ensureTestImage(a), TEST_IMAGE); // idempotent

  const id = await docker(a, "run", "-d", "--pull=never", "--name", "web-a", "-p", `${port}:8080`, TEST_IMAGE);
  await docker(b, "run", "-d", "--pull=never", "--hostname", "web-b", "-p", `${port}:8080`, TEST_IMAGE);
  assert.equal(await docker(a, "port", "web-a", "8080/tcp"), `127.0.0.3:${port}`);
  assert.equal(await docker(a, "inspect", "--format", `{{index .Config.Labels "berth-test.run"}}`, "web-a"), RUN_LABEL.split("=")[1]);
  const pageA = await waitFor(() => httpGet(`http://127.0.0.3:${port}/`).then((r) => r.status === 200 && r.body), {
    what: "page on 127.0.0.3",
  });
  assert.equal(pageA.trim(), id.slice(0, 12), "the page names the container (its hostname = short ID)");
  const pageB = await waitFor(() => httpGet(`http://127.0.0.4:${port}/`).then((r) => r.status === 200 && r.body), {
    what: "page on 127.0.0.4",
  });
  assert.equal(pageB.trim(), "web-b");

  await assert.rejects(docker(a, "run", "--rm", "--pull=never", TEST_IMAGE, "sh", "-c", "exit 1"), /exit 1/);
  assert.equal(await docker(a, "run", "--rm", "--pull=never", "-e", "PAGE=x", TEST_IMAGE, "sh", "-c", "echo $PAGE $PATH"), "x /bin");
  const t2 = performance.now();
  await docker(a, "stop", "web-a");
  t.diagnostic(`docker stop of the /serve container: ${Math.round(performance.now() - t2)} ms`);
  assert.equal(await docker(a, "inspect", "--format", "{{.State.ExitCode}}", "web-a"), "143");
  await docker(a, "start", "web-a"); // leave one running on each engine for stop() to deal with

  await stopAndCheck(t, a);
  assert.ok(await canConnect("127.0.0.4", port), "engine b is unaffected by stopping a");
  await stopAndCheck(t, b);
  assert.equal(await canConnect("127.0.0.3", port), false);
});

test("harness sharedEngine - DOCKER_HOST engine; stop() removes only this process's containers", { timeout: 60_000 }, async (t) => {
  if (!dockerReady(t)) return;
  const saved = process.env.DOCKER_HOST;
  const t0 = performance.now();
  const own = await startDockerd({ name: "hs" }); // stands in for someone else's daemon
  t.diagnostic(`one dockerd started: ${Math.round(performance.now() - t0)} ms`);
  try {
    delete process.env.DOCKER_HOST;
    assert.equal(sharedEngine(), undefined);
    process.env.DOCKER_HOST = own.host;
    const shared = sharedEngine();
    assert.ok(shared !== undefined && !shared.private && shared.ip === "127.0.0.1");
    await ensureTestImage(shared);
    await docker(shared, "run", "-d", "--pull=never", "--name", "mine", TEST_IMAGE);
    await run(dockerCli(), ["-H", own.host, "run", "-d", "--pull=never", "--name", "theirs", TEST_IMAGE]); // no RUN_LABEL
    await shared.stop();
    assert.equal(await docker(own, "ps", "-a", "--format", "{{.Names}}"), "theirs");
  } finally {
    if (saved === undefined) delete process.env.DOCKER_HOST;
    else process.env.DOCKER_HOST = saved;
    const t1 = performance.now();
    await own.stop();
    t.diagnostic(`one dockerd stopped (one running container): ${Math.round(performance.now() - t1)} ms`);
  }
});

test("harness dockerd - a failed start removes everything it made", { timeout: 60_000 }, async (t) => {
  if (!dockerReady(t)) return;
  await assert.rejects(startDockerd({ name: "hbad", ip: "not-an-ip" }), /dockerd hbad exited early/);
  assert.deepEqual(pendingCleanups(), []);
  assert.deepEqual(pidsWithCmdline("/tmp/berth-hbad-"), []);
  assert.deepEqual(
    readdirSync("/tmp").filter((n) => n.startsWith("berth-hbad-")),
    [],
  );
});

test("harness cleanup - process.exit() without stop: the exit hook tears everything down", { timeout: 120_000 }, async (t) => {
  if (!dockerReady(t) || !natsReady(t)) return;
  const child = await runChild("exit", "127.0.0.5");
  assert.equal(child.exitCode, 0, child.stderr);
  await assertAllGone(child);
});

test(
  "harness cleanup - SIGKILLed test process: daemons stop themselves, the next start sweeps the rest",
  { timeout: 120_000 },
  async (t) => {
    if (!dockerReady(t) || !natsReady(t)) return;
    const child = await runChild("kill", "127.0.0.6");
    assert.equal(child.signal, "SIGKILL");
    // containerd and nats-server exit at once; dockerd gets SIGTERM too but, its containerd being gone,
    // waits out its shutdown timeout (container stop timeout + 5 s = 15 s): the sweep kills it.
    const [, containerdPid = 0, natsPid = 0] = child.daemons;
    await waitFor(() => !isAlive(containerdPid) && !isAlive(natsPid), { what: "containerd and nats-server to get tini's SIGTERM" });
    await waitFor(() => readFileSync(join(child.dir, "dockerd.log"), "utf8").includes("Processing signal 'terminated'"), {
      what: "dockerd to get SIGTERM",
    });
    assert.ok(existsSync(child.dir), "the engine dir is still there before the sweep");
    assert.ok(sweepStaleEngines().includes(child.dir));
    assert.ok(sweepStaleNats().includes(child.natsDir));
    await assertAllGone(child);
  },
);

async function assertAllGone(child: ChildReport): Promise<void> {
  for (const pid of child.pids) assert.equal(isAlive(pid), false, `pid ${pid} is gone`);
  assert.equal(child.sockets.length, 1, "the child saw its shim's socket");
  for (const socket of child.sockets) assert.equal(existsSync(socket), false, `${socket} is gone`);
  assert.deepEqual(pidsWithCmdline(`${child.dir}/`), []);
  assert.deepEqual(mountsUnder(child.dir), []);
  assert.equal(bridgeExists(child.bridge), false);
  assert.equal(existsSync(child.dir), false);
  assert.equal(existsSync(child.natsDir), false);
  assert.equal(await canConnect(child.ip, child.port), false, "the container's published port is closed");
}

async function stopAndCheck(t: TestContext, e: PrivateDockerEngine): Promise<void> {
  const t0 = performance.now();
  await e.stop();
  t.diagnostic(`dockerd ${e.name} stop (one running container): ${Math.round(performance.now() - t0)} ms`);
  assert.equal(isAlive(e.dockerdPid), false);
  assert.equal(isAlive(e.containerdPid), false);
  assert.deepEqual(pidsWithCmdline(`${e.dir}/`), [], "no dockerd/containerd/shim of this engine remains");
  assert.deepEqual(mountsUnder(e.dir), []);
  assert.equal(bridgeExists(e.bridge), false);
  assert.equal(existsSync(e.dir), false);
  assert.equal(existsSync(`/sys/fs/cgroup/memory/berth-${e.bridge}`), false);
  await e.stop(); // idempotent
}
