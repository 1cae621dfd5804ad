// Real containers on a private dockerd → the emitter's inspect and normalisation → the mapping
// (cli/container-services.ts, the path `berth explain` takes; no NATS, no Consul). Where a service
// says "reachable here", a request to that address and port is answered by the container.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { MappingSettings } from "../mapping/settings.ts";
import { registerCleanup, cleanupAll } from "./harness/cleanup.ts";
import { removeContainers } from "./harness/docker-cli.ts";
import { runSync } from "./harness/exec.ts";
import { httpGet } from "./harness/http.ts";
import { TEST_IMAGE } from "./harness/image.ts";
import { waitFor } from "./harness/wait.ts";
import { settings } from "./builders.ts";
import { startPipeline, type Pipeline } from "./pipeline/index.ts";

const IP = "127.0.0.61";
const K = 1 + Math.floor(Math.random() * 254);
const NET = { name: "appnet", bridge: `bmap${K}`, subnet: `10.214.${K}.0/24`, v6: `fd00:b127:${K.toString(16)}::/64` };

describe("mapping docker", () => {
  let p: Pipeline;
  const docker = (...args: string[]) => p.docker("node6", ...args);
  const run = (...args: string[]) => docker("run", "-d", "--pull=never", ...args);
  /** What `berth explain` gives for the container on node6 (BERTH_HOST_IP 127.0.0.61) with these settings. */
  const mapped = (ref: string, s: Partial<MappingSettings> = {}) => p.explain("node6", ref, settings(s));
  /** The container's httpd answers there (asked until it does: it may not listen yet right after `docker run`). */
  const answers = (address: string | undefined, port: number | undefined) =>
    waitFor(async () => (await httpGet(`http://${address}:${port}/`, { timeoutMs: 2000 })).status === 200, {
      what: `an answer at ${address}:${port}`,
      timeoutMs: 5_000,
    });

  before(async () => {
    // A Docker engine only: the mapping of real containers, as `berth explain` computes it (no NATS, no Consul).
    p = await startPipeline({ prefix: "mapping", nats: false, nodes: [{ name: "node6", ip: IP, engine: "docker", agent: false }] });
  });
  after(cleanupAll);

  const prereq = (t: import("node:test").TestContext) => p.ready(t);

  test("mapping docker - a multi-port container with a UDP port: one service per published port", async (t) => {
    if (!prereq(t)) return;
    const id = await run("--name", "multi", "-p", "18080:8080", "-p", "15353:53/udp", "--expose", "9000", TEST_IMAGE);
    const { mapping } = await mapped(id);
    assert.deepEqual(
      mapping.services.map((s) => [s.ID, s.Name, s.Address, s.Port, s.Tags]),
      [
        [`node6:multi:${id.slice(0, 12)}:53:udp`, "busybox-53", IP, 15353, ["udp"]],
        [`node6:multi:${id.slice(0, 12)}:8080`, "busybox-8080", IP, 18080, []],
      ],
    );
    assert.deepEqual(
      mapping.skipped.map((s) => s.port),
      ["9000/tcp"],
    );
    assert.ok(await answers(IP, 18080));
  });

  test("mapping docker - an HTTP check points at the published address, which answers", async (t) => {
    if (!prereq(t)) return;
    const id = await run(
      "-p",
      "18082:8080",
      "-e",
      "SERVICE_NAME=web",
      "-e",
      "SERVICE_CHECK_HTTP=/",
      "-l",
      "SERVICE_CHECK_INTERVAL=5s",
      TEST_IMAGE,
    );
    const [svc] = (await mapped(id)).mapping.services;
    assert.deepEqual(svc?.Check, { HTTP: `http://${IP}:18082/`, Interval: "5s" });
    assert.equal((await httpGet(svc.Check.HTTP, { timeoutMs: 2000 })).status, 200);
  });

  test("mapping docker - BERTH_INTERNAL: exposed ports on the container's bridge address", async (t) => {
    if (!prereq(t)) return;
    const id = await run("-p", "18083:8080", "--expose", "9000", TEST_IMAGE);
    const { mapping, event } = await mapped(id, { internal: true });
    const ip = event.data.container.networks?.["bridge"]?.ipv4;
    assert.ok(ip);
    assert.deepEqual(
      mapping.services.map((s) => `${s.Address}:${s.Port}`),
      [`${ip}:8080`, `${ip}:9000`],
    );
    assert.ok(await answers(ip, 8080));
  });

  test("mapping docker - host network mode: exposed ports on the node's address", async (t) => {
    if (!prereq(t)) return;
    const id = await run("--network", "host", "--expose", "18099", "-e", "SERVICE_NAME=hostsvc", "--init", TEST_IMAGE, "sleep", "300");
    const { mapping } = await mapped(id);
    assert.deepEqual(
      mapping.services.map((s) => [s.Name, s.Address, s.Port]),
      [["hostsvc", IP, 18099]],
    );
  });

  test("mapping docker - a user-defined network: SERVICE_NETWORK chooses the address, published ports stay on the host's", async (t) => {
    if (!prereq(t)) return;
    await docker(
      "network",
      "create",
      "--subnet",
      NET.subnet,
      "--ipv6",
      "--subnet",
      NET.v6,
      "-o",
      `com.docker.network.bridge.name=${NET.bridge}`,
      NET.name,
    );
    registerCleanup(
      `network ${NET.name} (${NET.bridge})`,
      async () => {
        await removeContainers(p.engine("node6"), `network=${NET.name}`);
        await docker("network", "rm", NET.name);
      },
      () => void runSync("ip", ["link", "del", NET.bridge]),
    );
    const id = await run("--network", NET.name, "-p", "18084:8080", "-l", "SERVICE_NETWORK=bridge", TEST_IMAGE);
    await docker("network", "connect", "bridge", id);
    const { event } = await mapped(id);
    const { appnet, bridge } = { appnet: event.data.container.networks?.[NET.name], bridge: event.data.container.networks?.["bridge"] };
    assert.match(appnet?.ipv4 ?? "", new RegExp(`^10\\.214\\.${K}\\.`));
    assert.match(appnet?.ipv6 ?? "", /^fd00:b127:/);
    assert.deepEqual(
      (await mapped(id, { internal: true })).mapping.services.map((s) => s.Address),
      [bridge?.ipv4],
    );
    assert.deepEqual(
      (await mapped(id)).mapping.services.map((s) => `${s.Address}:${s.Port}`),
      [`${IP}:18084`],
    );
    const other = await run("--network", NET.name, "--expose", "8080", "-e", "SERVICE_NAME=app", TEST_IMAGE);
    const [svc] = (await mapped(other, { internal: true, network: "bridge" })).mapping.services;
    assert.match(svc?.Address ?? "", new RegExp(`^10\\.214\\.${K}\\.`), "BERTH_NETWORK is only a preference");
    assert.ok(await answers(svc?.Address, svc?.Port));
  });

  test("mapping docker - container:<x> network mode: the emitter resolves <x>'s address", async (t) => {
    if (!prereq(t)) return;
    const peer = await run("--name", "peer", TEST_IMAGE);
    await docker("commit", "--change", "EXPOSE 9100", peer, "berth-test/exposing:1");
    const id = await run("--network", `container:${peer}`, "-e", "PORT=9100", "-e", "SERVICE_NAME=sidecar", "berth-test/exposing:1");
    const { mapping, event } = await mapped(id);
    const peerIp = (await mapped(peer)).event.data.container.networks?.["bridge"]?.ipv4;
    assert.deepEqual(event.data.container.peerNetworks, { bridge: { ipv4: peerIp } });
    assert.deepEqual(
      mapping.services.map((s) => `${s.Name} ${s.Address}:${s.Port}`),
      [`sidecar ${peerIp}:9100`],
    );
    assert.ok(await answers(peerIp, 9100));
  });

  test("mapping docker - SERVICE_IGNORE=true skips the container, SERVICE_IGNORE=false does not", async (t) => {
    if (!prereq(t)) return;
    const ignored = await run("-p", "18085:8080", "-e", "SERVICE_IGNORE=true", TEST_IMAGE);
    const kept = await run("-p", "18086:8080", "-l", "SERVICE_IGNORE=false", TEST_IMAGE);
    const { mapping } = await mapped(ignored);
    assert.deepEqual([mapping.services, mapping.skipped], [[], [{ port: "8080/tcp", reason: "SERVICE_IGNORE is set" }]]);
    assert.equal((await mapped(kept)).mapping.services.length, 1);
  });

  test("mapping docker - BERTH_DEREGISTER=on-success keeps the services of exit 1, not of exit 137", async (t) => {
    if (!prereq(t)) return;
    const failed = await run("-p", "18087:8080", TEST_IMAGE, "sh", "-c", "exit 1");
    const killed = await run("-p", "18088:8080", "--init", TEST_IMAGE, "sleep", "300");
    await docker("kill", killed);
    await docker("wait", failed);
    await docker("wait", killed);
    const onSuccess = { deregister: "on-success" } as const;
    const exit1 = await mapped(failed, onSuccess);
    assert.deepEqual([exit1.event.type, exit1.event.data.container.exitCode, exit1.mapping.keep], ["io.berth.container.stopped", 1, true]);
    const exit137 = await mapped(killed, onSuccess);
    assert.deepEqual([exit137.event.data.container.exitCode, exit137.mapping.keep, exit137.mapping.services], [137, false, []]);
    assert.equal((await mapped(failed)).mapping.keep, false, "always removes even after exit 1");
  });
});
