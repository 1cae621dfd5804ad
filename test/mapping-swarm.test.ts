// Swarm-mode task containers on a real single-node swarm (a private dockerd, `docker swarm init`,
// an attachable overlay network) → the emitter's inspect and normalisation → the mapping (the path
// `berth explain` takes). What only a manager knows — the service's VIP, its ingress-published
// ports — is not on the task container and not berth's.
//
// The swarm's docker_gwbridge is a Linux bridge of that fixed name in the host's namespace: the test
// removes it when it is done (and a stale one nothing is attached to before it starts).
//
// BERTH_WRITE_FIXTURES=1 rewrites test/fixtures/inspect-swarm-task.json from the first task seen
// here (the real inspect test/unit-mapping-swarm.test.ts maps).
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import type { MappingSettings } from "../mapping/settings.ts";
import { settings } from "./builders.ts";
import { cleanupAll, registerCleanup } from "./harness/cleanup.ts";
import { canStartDockerd } from "./harness/dockerd.ts";
import { runSync } from "./harness/exec.ts";
import { httpGet } from "./harness/http.ts";
import { TEST_IMAGE } from "./harness/image.ts";
import { waitFor } from "./harness/wait.ts";
import { startPipeline, type Pipeline } from "./pipeline/index.ts";

const IP = "127.0.0.63";
const K = 1 + Math.floor(Math.random() * 254);
const SUBNET = `10.215.${K}.0/24`;
const GWBRIDGE = "docker_gwbridge";

/** Deletes the swarm's host bridge when nothing is attached to it (what a stopped engine leaves). */
function dropIdleGwbridge(): void {
  if (!runSync("ip", ["link", "show", GWBRIDGE]).ok) return;
  const attached = runSync("ip", ["-br", "link", "show", "master", GWBRIDGE]).stdout.trim();
  if (attached === "") runSync("ip", ["link", "del", GWBRIDGE]);
}

describe("mapping swarm", () => {
  let p: Pipeline;
  const docker = (...args: string[]) => p.docker("node8", ...args);
  /** What `berth explain` gives for the container on node8 (BERTH_HOST_IP 127.0.0.63) with these settings. */
  const mapped = (ref: string, s: Partial<MappingSettings> = {}) => p.explain("node8", ref, settings(s));
  /** Creates a service and waits for its one task container to run; resolves with the container ID. */
  const service = async (name: string, ...args: string[]) => {
    await docker("service", "create", "--detach", "--name", name, ...args, TEST_IMAGE);
    const filter = `label=com.docker.swarm.service.name=${name}`;
    return waitFor(async () => (await docker("ps", "-q", "--filter", filter, "--filter", "status=running")) || false, {
      what: `a running task of ${name}`,
      timeoutMs: 60_000,
      intervalMs: 250,
    });
  };
  /** GET from a container on the overlay network (the overlay is not routed to the host). */
  const fromOverlay = (url: string) =>
    docker("run", "--rm", "--pull=never", "--network", "appnet", TEST_IMAGE, "wget", "-q", "-O", "-", url);

  before(async () => {
    if (canStartDockerd()) {
      // Registered before the engine: dropped after the engine has stopped (cleanups run newest first).
      dropIdleGwbridge();
      registerCleanup(
        GWBRIDGE,
        () => {
          dropIdleGwbridge();
          return Promise.resolve();
        },
        dropIdleGwbridge,
      );
    }
    // A Docker engine only (no NATS, no Consul), made a single-node swarm.
    p = await startPipeline({ prefix: "swarm", nats: false, nodes: [{ name: "node8", ip: IP, engine: "docker", agent: false }] });
    if (!p.started) return;
    await docker("swarm", "init", "--advertise-addr", IP);
    await docker("network", "create", "--driver", "overlay", "--attachable", "--subnet", SUBNET, "appnet");
  });
  after(cleanupAll);

  const prereq = (t: import("node:test").TestContext) => p.ready(t);

  test("mapping swarm - a task: the Swarm service's name, its overlay address and SERVICE_PORT, answered there", async (t) => {
    if (!prereq(t)) return;
    const id = await service(
      "websvc",
      "--network",
      "appnet",
      "--publish",
      "18190:8080",
      "--env",
      "SERVICE_PORT=8080",
      "--container-label",
      "SERVICE_TAGS=swarm",
    );
    const { event, mapping } = await mapped(id);
    if (process.env.BERTH_WRITE_FIXTURES === "1") {
      const inspect = (JSON.parse(await docker("inspect", id)) as unknown[])[0];
      writeFileSync("test/fixtures/inspect-swarm-task.json", `${JSON.stringify(inspect, null, 1)}\n`);
    }
    const { container } = event.data;
    assert.equal(container.labels?.["com.docker.swarm.service.name"], "websvc", "the emitter shares com.docker.swarm.* labels");
    assert.match(container.name, /^websvc\.1\.[a-z0-9]{25}$/);
    assert.deepEqual(container.ports, [], "an ingress-published port is not on the task container");
    const overlay = container.networks?.["appnet"]?.ipv4;
    assert.match(overlay ?? "", new RegExp(`^10\\.215\\.${K}\\.`));
    assert.ok(container.networks?.["ingress"]?.ipv4, "the task is on the routing mesh too, which is never advertised");
    assert.deepEqual(
      mapping.services.map((s) => [s.ID, s.Name, s.Address, s.Port, s.Tags]),
      [[`node8:${container.name}:${id.slice(0, 12)}:8080`, "websvc", overlay, 8080, ["swarm"]]],
    );
    assert.equal(await fromOverlay(`http://${overlay}:8080/`), id.slice(0, 12), "the overlay address answers");
    const bare = await service("bare", "--network", "appnet", "--publish", "18192:8080");
    assert.deepEqual((await mapped(bare)).mapping, {
      services: [],
      keep: false,
      skipped: [
        {
          reason:
            "no ports: a Swarm task's ingress-published ports are known only to the managers; name the port the task listens on with SERVICE_PORT",
        },
      ],
      warnings: [],
    });
  });

  test("mapping swarm - a port published in host mode: on the overlay by default, on the node's address with SERVICE_ADDRESS_MODE=host", async (t) => {
    if (!prereq(t)) return;
    const id = await service("hostsvc", "--network", "appnet", "--publish", "mode=host,target=8080,published=18191");
    const { event, mapping } = await mapped(id);
    const overlay = event.data.container.networks?.["appnet"]?.ipv4;
    assert.deepEqual(
      mapping.services.map((s) => [s.Name, s.Address, s.Port]),
      [["hostsvc", overlay, 8080]],
    );
    const onHost = await service(
      "hostsvc2",
      "--network",
      "appnet",
      "--publish",
      "mode=host,target=8080,published=18193",
      "--env",
      "SERVICE_ADDRESS_MODE=host",
    );
    const [svc] = (await mapped(onHost)).mapping.services;
    assert.deepEqual([svc?.Name, svc?.Address, svc?.Port], ["hostsvc2", IP, 18193]);
    assert.equal(
      (await httpGet(`http://${IP}:18193/`, { timeoutMs: 2000 })).body.trim(),
      onHost.slice(0, 12),
      "the node's address answers",
    );
  });

  test("mapping swarm - SERVICE_NAME and SERVICE_NETWORK still choose", async (t) => {
    if (!prereq(t)) return;
    const id = await service(
      "named",
      "--network",
      "appnet",
      "--env",
      "SERVICE_PORT=8080",
      "--env",
      "SERVICE_NAME=shop",
      "--env",
      "SERVICE_NETWORK=ingress",
      "--publish",
      "18194:8080",
    );
    const { event, mapping } = await mapped(id);
    assert.deepEqual(
      mapping.services.map((s) => [s.Name, s.Address]),
      [["shop", event.data.container.networks?.["ingress"]?.ipv4]],
    );
  });
});
