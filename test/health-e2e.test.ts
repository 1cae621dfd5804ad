// Docker HEALTHCHECK → Consul, end to end: a real container whose health check we flip with
// `docker exec`, a real emitter on a private dockerd, a real nats-server, a handler and an agent
// double. The service's TTL check `berth-health:<serviceID>` follows Docker's health_status, and
// the health endpoint with ?passing stops and starts returning the instance.
//
// The check is `test -f /tmp/ok` every second, one failure makes it unhealthy, and a 10-minute
// start period keeps the container `starting` (failures do not count yet) until the file first
// exists: so the starting state lasts as long as the test wants, with no race against the clock.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { cleanupAll } from "./harness/cleanup.ts";
import { TEST_IMAGE } from "./harness/image.ts";
import { waitFor } from "./harness/wait.ts";
import { startPipeline, type Pipeline } from "./pipeline/index.ts";

const PREFIX = "hc";
const NODE = "hc1";
const IP = "127.0.0.42";
const SERVICE = "flippy";

describe("health end to end", () => {
  let p: Pipeline;

  before(async () => {
    p = await startPipeline({
      prefix: PREFIX,
      nodes: [{ name: NODE, ip: IP, engine: "docker" }],
      // warning while starting: distinct from both the healthy (passing) and unhealthy (critical) statuses.
      handlerEnv: { BERTH_HEALTH_INITIAL_STATUS: "warning" },
    });
  });
  after(cleanupAll);

  const prerequisites = (t: import("node:test").TestContext) => p.ready(t);
  const agent = () => p.agent(NODE);
  const docker = (...args: string[]) => p.docker(NODE, ...args);

  /** The instances the health endpoint returns with ?passing, as service IDs. */
  const passingInstances = async () => {
    const res = await fetch(`${p.agentUrl(NODE)}/v1/health/service/${SERVICE}?passing`);
    assert.equal(res.status, 200);
    return ((await res.json()) as { Service: { ID: string } }[]).map((e) => e.Service.ID);
  };
  const dockerHealth = async (id: string) => (await docker("inspect", "--format", "{{.State.Health.Status}}", id)).trim();

  test("health end to end - starting → warning, healthy → passing, unhealthy → critical, healthy again → passing; ?passing follows", async (t) => {
    if (!prerequisites(t)) return;
    let since = Date.now();
    const id = await docker(
      "run",
      "-d",
      "--pull=never",
      "-e",
      `SERVICE_NAME=${SERVICE}`,
      "-p",
      "8080",
      "--health-cmd",
      "test -f /tmp/ok",
      "--health-interval",
      "1s",
      "--health-retries",
      "1",
      "--health-start-period",
      "10m",
      TEST_IMAGE,
    );
    const service = await waitFor(() => Object.values(agent().services()).find((s) => s.Meta["berth_container"] === id), {
      what: "the service registered",
    });
    const checkId = `berth-health:${service.ID}`;
    const check = () => agent().checks()[checkId];
    const trail: string[] = [];
    const reach = async (status: string, docker: string, listed: boolean) => {
      // The registration already carries the initial status; berth's update then adds Docker's word to it.
      const said = `Docker health status: ${docker} `;
      const seen = await waitFor(() => check()?.Status === status && check()!.Output.startsWith(said) && check(), {
        what: `check ${checkId} ${status} (${said})`,
        timeoutMs: 15_000,
      });
      trail.push(status);
      t.diagnostic(`${status} ${Date.now() - since} ms after the docker run/exec (Docker probes every 1 s)`);
      assert.equal(await dockerHealth(id), docker, "the check says what Docker says");
      assert.equal(seen.ServiceID, service.ID);
      assert.equal(seen.Type, "ttl");
      assert.deepEqual(await passingInstances(), listed ? [service.ID] : [], `?passing while ${status}`);
      await p.converged([NODE]); // the service and its checks as the mapping gives them, the health check's status Docker's
    };

    await reach("warning", "starting", false);
    const flip = async (...command: string[]) => {
      since = Date.now();
      await docker("exec", id, ...command);
    };
    await flip("touch", "/tmp/ok");
    await reach("passing", "healthy", true);
    await flip("rm", "/tmp/ok");
    await reach("critical", "unhealthy", false);
    await flip("touch", "/tmp/ok");
    await reach("passing", "healthy", true);
    assert.deepEqual(trail, ["warning", "passing", "critical", "passing"]);

    const registrations = agent().requests.filter(
      (r) => r.method === "PUT" && r.path === "/v1/agent/service/register" && r.body?.includes(id),
    );
    assert.equal(registrations.length, 1, "a health change updates the check; it does not register the service again");
    const updates = agent().requests.filter(
      (r) => r.method === "PUT" && r.path === `/v1/agent/check/update/${encodeURIComponent(checkId)}`,
    );
    assert.ok(updates.length >= 4, `one status update per change at least (${updates.length})`);

    await docker("stop", id);
    await waitFor(() => check() === undefined && agent().services()[service.ID] === undefined, {
      what: "the service and its check gone with the container",
    });
    assert.deepEqual(await passingInstances(), []);
  });
});
