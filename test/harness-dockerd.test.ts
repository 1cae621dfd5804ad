// Tests of the integration-test harness itself, against real dockerds: private engines side by side
// (own containerd, bridge and data, the test image, published ports on each engine's address) and
// their clean stop, the shared DOCKER_HOST engine whose stop() removes only this process's
// containers, and a failed start that leaves nothing behind. Its diagnostics give the timings
// quoted in test/harness/dockerd.ts.
// Prerequisites missing → skipped locally, FAILED under CI=true (see test/harness/prereq.ts).
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import type { TestContext } from "node:test";
import { bridgeExists } from "./harness/bridge.ts";
import { cleanupAll, pendingCleanups } from "./harness/cleanup.ts";
import { RUN_LABEL, docker, dockerCli } from "./harness/docker-cli.ts";
import { sharedEngine, startDockerd } from "./harness/dockerd.ts";
import type { PrivateDockerEngine } from "./harness/dockerd.ts";
import { run } from "./harness/exec.ts";
import { httpGet } from "./harness/http.ts";
import { TEST_IMAGE, ensureTestImage } from "./harness/image.ts";
import { mountsUnder } from "./harness/mounts.ts";
import { canConnect, freePort } from "./harness/ports.ts";
import { isAlive, pidsWithCmdline } from "./harness/proc-scan.ts";
import { waitFor } from "./harness/wait.ts";
import { dockerReady } from "./harness-fixture.ts";

after(cleanupAll);

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
