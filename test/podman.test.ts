// The emitter against Podman's Docker-compatible API (Debian's podman, `podman system service`):
// a private rootful Podman engine, one nats-server, the emitter with DOCKER_HOST at Podman's socket,
// a handler and an agent double. Containers are made with the podman CLI, as a Podman user would.
import assert from "node:assert/strict";
import { after, before, describe, test, type TestContext } from "node:test";
import type { BerthProcess } from "./berth-process.ts";
import { cleanupAll } from "./harness/cleanup.ts";
import { httpGet } from "./harness/http.ts";
import { TEST_IMAGE } from "./harness/image.ts";
import { freePort } from "./harness/ports.ts";
import { waitFor } from "./harness/wait.ts";
import { startPipeline, type Pipeline } from "./pipeline/index.ts";

const NODE = "pod1";

describe("podman", () => {
  let p: Pipeline;
  let emitter: BerthProcess | undefined;

  const podman = (...args: string[]) => p.podman(NODE).podman(...args);
  /** A container on its own slirp4netns network, port 8080 published on 127.0.0.1:<hostPort>. */
  const runPublished = (hostPort: number, ...args: string[]) =>
    podman("run", "-d", "--pull=never", "--network", "slirp4netns", "-p", `127.0.0.1:${hostPort}:8080`, ...args);
  const servicesNamed = (name: string) => Object.values(p.agent(NODE).services()).filter((s) => s.Service === name);
  const startEmitter = async () => {
    emitter = await p.startEmitter(NODE);
  };
  const published = (id: string, type: string) =>
    emitter!.waitForLog(
      (l) => l.msg === "published" && l["container"] === id && l["type"] === `io.berth.container.${type}`,
      `${type} of ${id.slice(0, 12)} published`,
    );

  before(async () => {
    // The harness's image is made through Podman's Docker API exactly as on a dockerd; the emitter starts in the first test.
    p = await startPipeline({
      prefix: "pod",
      nodes: [{ name: NODE, ip: "127.0.0.1", engine: "podman", emitter: { deferred: true } }],
      handlerEnv: { BERTH_DEREGISTER: "on-success" },
    });
  });
  after(cleanupAll);

  const prerequisites = (t: TestContext) => p.ready(t);

  test("podman - a container already running when the emitter starts is registered", async (t) => {
    if (!prerequisites(t)) return;
    const port = await freePort();
    const id = await runPublished(port, "--name", "early", "-e", "SERVICE_NAME=early", TEST_IMAGE);
    await startEmitter();
    await published(id, "started");
    const [svc] = await waitFor(() => servicesNamed("early").length === 1 && servicesNamed("early"), { what: "early in the agent" });
    assert.equal(svc?.Port, port);
    assert.equal(svc.Address, "127.0.0.1");
    assert.equal(svc.Meta["berth_container"], id);
  });

  test("podman - started → registered on its published port and answered by the container; stopped → deregistered", async (t) => {
    if (!prerequisites(t)) return;
    const port = await freePort();
    const id = await runPublished(port, "--name", "web", "-e", "SERVICE_NAME=web", "-e", "SERVICE_TAGS=a,b", TEST_IMAGE);
    const [svc] = await waitFor(() => servicesNamed("web").length === 1 && servicesNamed("web"), { what: "web in the agent" });
    assert.equal(svc?.Port, port);
    assert.deepEqual(svc.Tags, ["a", "b"]);
    const page = await waitFor(
      async () => {
        const r = await httpGet(`http://${svc.Address}:${svc.Port}/`).catch(() => undefined);
        return r?.status === 200 && r;
      },
      { what: "the page through Podman's published port" },
    );
    assert.equal(page.body.trim(), id.slice(0, 12), "the page names the container that answered");

    await podman("stop", "-t", "5", id);
    await published(id, "stopped"); // Podman's `died`, read as Docker's `die`
    await waitFor(() => servicesNamed("web").length === 0, { what: "web gone from the agent" });
    await p.converged([NODE]); // every service as the mapping gives it for each container Podman runs
  });

  test("podman - a service kept after a failed exit (on-success) goes when podman removes the container", async (t) => {
    if (!prerequisites(t)) return;
    const port = await freePort();
    // Serves, and exits 3 (a failure, not a signal) on SIGUSR1.
    const script = 'httpd -f -p 8080 -h /tmp & trap "exit 3" USR1; wait';
    const id = await runPublished(port, "--name", "fails", "-e", "SERVICE_NAME=fails", TEST_IMAGE, "sh", "-c", script);
    await waitFor(() => servicesNamed("fails").length === 1, { what: "fails in the agent" });
    await podman("kill", "-s", "USR1", id);
    await waitFor(async () => (await podman("inspect", "--format", "{{.State.ExitCode}}", id)) === "3", { what: "exit code 3" });
    await published(id, "stopped");
    assert.equal(servicesNamed("fails").length, 1, "kept after exiting with 3 (BERTH_DEREGISTER=on-success)");

    await podman("rm", id);
    await waitFor(
      () =>
        emitter!.logs.filter((l) => l.msg === "published" && l["container"] === id && l["type"] === "io.berth.container.stopped").length ===
        2,
      { what: "the removal published (Podman's `remove`, Docker's `destroy`)" },
    );
    await waitFor(() => servicesNamed("fails").length === 0, { what: "fails gone from the agent" });
  });

  test("podman - a HEALTHCHECK's result reaches the service's TTL check, one check late (Podman 4.3)", async (t) => {
    if (!prerequisites(t)) return;
    const port = await freePort();
    const id = await runPublished(
      port,
      "--name",
      "checked",
      "-e",
      "SERVICE_NAME=checked",
      "--health-cmd",
      "test ! -e /tmp/sick",
      "--health-retries",
      "1",
      TEST_IMAGE,
    );
    const check = () =>
      Object.values(p.agent(NODE).checks()).find((c) => c.ServiceName === "checked" && c.CheckID.startsWith("berth-health:"));
    await waitFor(() => check()?.Status === "critical", { what: "the check registered, critical while starting" });
    // No systemd here to schedule health checks: run them by hand. Podman before 4.6 sends
    // health_status while the check still runs, before its result is saved (containers/podman#19237),
    // so the inspect the emitter takes may show the previous result: the second run's event is the
    // first one guaranteed to carry the first run's result.
    const healthRun = (expect: "healthy" | "unhealthy") =>
      podman("healthcheck", "run", id).then(
        () => assert.equal(expect, "healthy"),
        (err: unknown) => assert.match((err as Error).message, expect === "unhealthy" ? /exit 1/ : /^$/),
      );
    await healthRun("healthy");
    await healthRun("healthy");
    await waitFor(() => check()?.Status === "passing", { what: "check passing after healthy runs" });
    await podman("exec", id, "touch", "/tmp/sick");
    await healthRun("unhealthy");
    await healthRun("unhealthy");
    await waitFor(() => check()?.Status === "critical", { what: "check critical after unhealthy runs" });
  });

  test("podman - the emitter stops cleanly and leaves Podman's socket as it found it", async (t) => {
    if (!prerequisites(t)) return;
    const exit = await emitter!.stop();
    assert.equal(exit.code, 0);
    const ps = await podman("ps", "--format", "{{.Names}}");
    assert.ok(ps.split("\n").includes("early"), "the emitter only reads: containers are untouched");
  });
});
