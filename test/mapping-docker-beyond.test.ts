// Beyond registrator (issue 14) with real containers on a private dockerd: each row of the issue's
// table Docker can produce → the emitter's inspect and normalisation → the mapping (the path `berth
// explain` takes). Where a service says "reachable here", that address and port answer. Swarm tasks:
// test/mapping-swarm.test.ts; the table tests: test/unit-mapping-beyond*.test.ts.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { agentClient } from "../consul/client.ts";
import { stamped } from "../mapping/fingerprint.ts";
import type { MappingSettings } from "../mapping/settings.ts";
import { settings } from "./builders.ts";
import { cleanupAll, registerCleanup } from "./harness/cleanup.ts";
import { removeContainers } from "./harness/docker-cli.ts";
import { runSync } from "./harness/exec.ts";
import { TEST_IMAGE } from "./harness/image.ts";
import { waitFor } from "./harness/wait.ts";
import { startPipeline, type Pipeline } from "./pipeline/index.ts";

const IP = "127.0.0.64";
const K = 1 + Math.floor(Math.random() * 254);
const NET = { name: "dualnet", bridge: `bdual${K}`, subnet: `10.216.${K}.0/24`, v6: `fd00:b128:${K.toString(16)}::/64` };

/** GET over IPv4 or IPv6 (a bracketed literal): the page the test image serves is the container's short ID. */
async function page(address: string | undefined, port: number | undefined): Promise<string> {
  const host = address?.includes(":") ? `[${address}]` : address;
  // Asked until it answers: right after `docker run`, docker-proxy may accept (and close) before the
  // container's httpd listens.
  return waitFor(
    async () => {
      const res = await fetch(`http://${host}:${port}/`, { signal: AbortSignal.timeout(3000) });
      return res.ok && (await res.text()).trim();
    },
    { what: `a page at ${host}:${port}` },
  );
}

describe("mapping docker beyond", () => {
  let p: Pipeline;
  const docker = (...args: string[]) => p.docker("node9", ...args);
  const run = (...args: string[]) => docker("run", "-d", "--pull=never", ...args);
  /** What `berth explain` gives for the container on node9 (BERTH_HOST_IP 127.0.0.64) with these settings. */
  const mapped = (ref: string, s: Partial<MappingSettings> = {}) => p.explain("node9", ref, settings(s));

  before(async () => {
    // A Docker engine, and node9's agent double for the sidecar row; no NATS, no berth process.
    p = await startPipeline({ prefix: "beyond", nats: false, nodes: [{ name: "node9", ip: IP, engine: "docker" }] });
  });
  after(cleanupAll);

  const prereq = (t: import("node:test").TestContext) => p.ready(t);

  test("beyond docker - Connect sidecar: the registration the agent turns into <id>-sidecar-proxy for the published port", async (t) => {
    if (!prereq(t)) return;
    const id = await run(
      "--name",
      "meshed",
      "-p",
      "18300:8080",
      "-e",
      "SERVICE_CONNECT=sidecar",
      "-l",
      "SERVICE_CONNECT_UPSTREAMS=db:9191",
      TEST_IMAGE,
    );
    const [svc] = (await mapped(id)).mapping.services;
    assert.deepEqual(svc?.Connect, {
      SidecarService: {
        Meta: { berth_node: "node9", berth_sidecar_of: id },
        Proxy: { Upstreams: [{ DestinationName: "db", LocalBindPort: 9191 }] },
      },
    });
    const double = p.agent("node9");
    const agent = agentClient(double.url);
    registerCleanup("beyond agent client", () => agent.close());
    await agent.register(stamped(svc));
    const sidecar = double.services()[`${svc.ID}-sidecar-proxy`];
    assert.deepEqual([sidecar?.Kind, sidecar?.Address, sidecar?.Port], ["connect-proxy", IP, 21000]);
    assert.deepEqual((sidecar as { Proxy?: { LocalServicePort?: number } } | undefined)?.Proxy?.LocalServicePort, 18300);
    assert.equal(await page(svc.Address, svc.Port), id.slice(0, 12), "the service the sidecar points at answers");
    await agent.deregister(svc.ID);
    assert.deepEqual(double.services(), {}, "and goes with it");
  });

  test("beyond docker - tag override, weights and the new check fields from labels and env", async (t) => {
    if (!prereq(t)) return;
    const id = await run(
      ...["-p", "18301:8080", "-l", "SERVICE_ENABLE_TAG_OVERRIDE=true", "-l", "SERVICE_WEIGHTS=passing=5,warning=1"],
      ...["-e", "SERVICE_CHECK_HTTP=/", "-e", "SERVICE_CHECK_HEADER_X_PROBE=berth", "-e", "SERVICE_CHECK_FAILURES_BEFORE_CRITICAL=3"],
      TEST_IMAGE,
    );
    const [svc] = (await mapped(id)).mapping.services;
    assert.deepEqual([svc?.EnableTagOverride, svc?.Weights], [true, { Passing: 5, Warning: 1 }]);
    assert.deepEqual(svc?.Check, {
      HTTP: `http://${IP}:18301/`,
      Header: { "X-Probe": ["berth"] },
      Interval: "10s",
      FailuresBeforeCritical: 3,
    });
    assert.equal(await page(IP, 18301), id.slice(0, 12));
  });

  test("beyond docker - per container: SERVICE_ADDRESS_MODE=container, SERVICE_ADDRESS, SERVICE_PORT, several names", async (t) => {
    if (!prereq(t)) return;
    const inside = await run("-p", "18302:8080", "-e", "SERVICE_ADDRESS_MODE=container", TEST_IMAGE);
    const { event, mapping } = await mapped(inside);
    const ip = event.data.container.networks?.["bridge"]?.ipv4;
    assert.deepEqual(
      mapping.services.map((s) => `${s.Address}:${s.Port}`),
      [`${ip}:8080`],
    );
    assert.equal(await page(ip, 8080), inside.slice(0, 12));
    const explicit = await run("-p", "18303:8080", "-l", "SERVICE_ADDRESS=192.0.2.80", TEST_IMAGE);
    assert.deepEqual(
      (await mapped(explicit)).mapping.services.map((s) => `${s.Address}:${s.Port}`),
      ["192.0.2.80:18303"],
    );
    // The test image listens on 8080 without exposing or publishing it.
    const unexposed = await run("-e", "SERVICE_PORT=8080", "-e", "SERVICE_NAME=api,admin", TEST_IMAGE);
    const found = await mapped(unexposed);
    const at = found.event.data.container.networks?.["bridge"]?.ipv4;
    assert.deepEqual(found.event.data.container.exposedPorts, []);
    assert.deepEqual(
      found.mapping.services.map((s) => [s.Name, s.ID.split(":").slice(-2).join(":"), `${s.Address}:${s.Port}`]),
      [
        ["api", "8080:api", `${at}:8080`],
        ["admin", "8080:admin", `${at}:8080`],
      ],
    );
    assert.equal(await page(at, 8080), unexposed.slice(0, 12));
  });

  test("beyond docker - port ranges, per-protocol keys, the suffix switch, ignored ports", async (t) => {
    if (!prereq(t)) return;
    const ranged = await run(
      ...["-p", "18310-18312:18310-18312", "-p", "18313:53/udp", "-p", "18314:53", "-e", "PORT=18311"],
      ...["-l", "SERVICE_18310-18312_NAME=rtp", "-l", "SERVICE_53_udp_NAME=dns", "-l", "SERVICE_18312_IGNORE=1"],
      TEST_IMAGE,
    );
    const { mapping } = await mapped(ranged);
    assert.deepEqual(
      mapping.services.map((s) => `${s.Name} ${s.Port} ${s.Tags?.join(",")}`),
      ["busybox-53 18314 ", "dns 18313 udp", "rtp 18310 ", "rtp 18311 "],
      "the range's ports are instances of one service rtp; the others keep the suffix rule",
    );
    assert.equal(await page(IP, 18311), ranged.slice(0, 12));
    const never = await mapped(ranged, { nameSuffix: "never" });
    assert.deepEqual(
      never.mapping.services.map((s) => s.Name),
      ["busybox", "dns", "rtp", "rtp"],
    );
    const two = await run("-p", "18315:8080", "-p", "18316:9000", "-e", "SERVICE_9000_IGNORE=true", "-e", "SERVICE_NAME=web", TEST_IMAGE);
    assert.deepEqual(
      (await mapped(two)).mapping.services.map((s) => s.Name),
      ["web"],
      "an ignored port does not count toward the suffix",
    );
  });

  test("beyond docker - dual stack: IPv4 in Address and IPv6 in TaggedAddresses, or the other way round; both answer", async (t) => {
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
        await removeContainers(p.engine("node9"), `network=${NET.name}`);
        await docker("network", "rm", NET.name);
      },
      () => void runSync("ip", ["link", "del", NET.bridge]),
    );
    const id = await run("--network", NET.name, "--expose", "8080", "-e", "SERVICE_NAME=dual", TEST_IMAGE);
    const v4 = await mapped(id, { internal: true });
    const net = v4.event.data.container.networks?.[NET.name];
    assert.match(net?.ipv6 ?? "", /^fd00:b128:/);
    const [svc4] = v4.mapping.services;
    assert.deepEqual([svc4?.Address, svc4?.TaggedAddresses], [net?.ipv4, { lan_ipv6: { Address: net?.ipv6, Port: 8080 } }]);
    const [svc6] = (await mapped(id, { internal: true, addressFamily: "ipv6" })).mapping.services;
    assert.deepEqual([svc6?.Address, svc6?.TaggedAddresses], [net?.ipv6, { lan_ipv4: { Address: net?.ipv4, Port: 8080 } }]);
    assert.equal(await page(svc6?.Address, 8080), id.slice(0, 12));
    assert.equal(await page(svc6?.TaggedAddresses?.["lan_ipv4"]?.Address, 8080), id.slice(0, 12));
    const both = await run("-p", "127.0.0.1:18320:8080", "-p", "[::1]:18320:8080", TEST_IMAGE);
    const [published] = (await mapped(both, { addressFamily: "ipv6" })).mapping.services;
    assert.deepEqual([published?.Address, published?.TaggedAddresses], ["::1", { lan_ipv4: { Address: "127.0.0.1", Port: 18320 } }]);
    assert.equal(await page("::1", 18320), both.slice(0, 12));
  });
});
