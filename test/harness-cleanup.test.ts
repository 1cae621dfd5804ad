// Tests of the integration-test harness itself, against the real nats-server and dockerd: clean-up —
// cleanupAll stops what a test left running; a test process that calls process.exit() has its exit
// hook tear everything down; after a SIGKILL the daemons stop themselves and the next start sweeps
// the rest.
// Prerequisites missing → skipped locally, FAILED under CI=true (see test/harness/prereq.ts).
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { bridgeExists } from "./harness/bridge.ts";
import { cleanupAll } from "./harness/cleanup.ts";
import { sweepStaleEngines } from "./harness/dockerd-teardown.ts";
import { mountsUnder } from "./harness/mounts.ts";
import { startNatsServer, sweepStaleNats } from "./harness/nats.ts";
import { canConnect } from "./harness/ports.ts";
import { isAlive, pidsWithCmdline } from "./harness/proc-scan.ts";
import { waitFor } from "./harness/wait.ts";
import { runChild } from "./harness/emergency-child.ts";
import type { ChildReport } from "./harness/emergency-child.ts";
import { dockerReady, natsReady } from "./harness-fixture.ts";

after(cleanupAll);

test("harness cleanup - cleanupAll stops what a test left running", { timeout: 30_000 }, async (t) => {
  if (!natsReady(t)) return;
  const nats = await startNatsServer();
  await cleanupAll();
  assert.equal(isAlive(nats.pid), false);
  assert.equal(existsSync(nats.storeDir), false);
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
