// Which ports qualify and on which address: published, BERTH_INTERNAL, host, container:<x>,
// user-defined networks, SERVICE_NETWORK / BERTH_NETWORK, IPv6 (registrator.md §3.3–3.5).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Container } from "../schemas/index.ts";
import { servicesFor } from "../mapping/services-for.ts";
import type { MappingSettings } from "../mapping/settings.ts";
import { event, expose, publish, settings } from "./builders.ts";

/** The builder's container publishes 8084:8080; here a test names every port it wants. */
const map = (container: Partial<Container>, s: Partial<MappingSettings> = {}, hostIp?: string) =>
  servicesFor(event({ container: { ports: [], ...container }, ...(hostIp === undefined ? {} : { hostIp }) }), settings(s));
const where = (container: Partial<Container>, s: Partial<MappingSettings> = {}, hostIp?: string) =>
  map(container, s, hostIp).services.map((svc) => `${svc.Address ?? "(agent)"}:${svc.Port}`);

const APP = { ipv4: "172.18.0.2", ipv6: "fd00:1::2" };
const BRIDGE = { ipv4: "172.17.0.5" };

describe("mapping ports", () => {
  test("mapping ports - published ports: the binding's specific host IP, else BERTH_HOST_IP, else the agent's address", () => {
    assert.deepEqual(where({ ports: publish("127.0.0.1:9053:53/udp") }), ["127.0.0.1:9053"]);
    assert.deepEqual(where({ ports: publish("8084:8080") }), ["10.0.0.3:8084"]);
    assert.deepEqual(where({ ports: publish("8084:8080") }, {}, ""), ["(agent):8084"]);
    assert.deepEqual(where({ ports: publish("0.0.0.0:8084:8080", "[::]:8084:8080") }), ["10.0.0.3:8084"]);
  });

  test("mapping ports - one service per container port: the lowest host port, the others reported", () => {
    const m = map({ ports: publish("8081:80", "8080:80") });
    assert.deepEqual(
      m.services.map((s) => s.Port),
      [8080],
    );
    assert.deepEqual(m.skipped, [
      { port: "80/tcp", reason: "also published on host port 8081: one service per container port, on the lowest host port" },
    ]);
  });

  test("mapping ports - a single published port has no suffix even when other ports are only exposed (registrator v7 #437)", () => {
    const m = map({ ports: publish("8084:8080"), exposedPorts: expose("8080", "9000"), env: {} });
    assert.deepEqual(
      m.services.map((s) => s.Name),
      ["web"],
    );
    assert.equal(m.skipped[0]?.port, "9000/tcp");
  });

  test("mapping ports - BERTH_INTERNAL: exposed ports, published or not, on the container's address and port", () => {
    const container = {
      networkMode: "bridge",
      networks: { bridge: BRIDGE },
      ports: publish("8084:8080"),
      exposedPorts: expose("8080", "9000"),
    };
    assert.deepEqual(where(container, { internal: true }), ["172.17.0.5:8080", "172.17.0.5:9000"]);
  });

  test("mapping ports - BERTH_INTERNAL on the default network mode uses the bridge network", () => {
    const container = { networkMode: "default", networks: { other: APP, bridge: BRIDGE }, exposedPorts: expose("80") };
    assert.deepEqual(where(container, { internal: true }), ["172.17.0.5:80"]);
  });

  test("mapping ports - user-defined network mode: its own address first, deterministically (registrator: map order, #498)", () => {
    const container = { networkMode: "appnet", networks: { bridge: BRIDGE, appnet: APP }, exposedPorts: expose("80") };
    assert.deepEqual(where(container, { internal: true }), ["172.18.0.2:80"]);
    const other = { networkMode: "gone", networks: { zeta: BRIDGE, alpha: APP }, exposedPorts: expose("80") };
    assert.deepEqual(where(other, { internal: true }), ["172.18.0.2:80"]);
  });

  test("mapping ports - SERVICE_NETWORK chooses the network; a network the container is not on skips the port", () => {
    const container = { networkMode: "appnet", networks: { bridge: BRIDGE, appnet: APP }, exposedPorts: expose("80", "81") };
    assert.deepEqual(where({ ...container, labels: { SERVICE_NETWORK: "bridge" } }, { internal: true }), [
      "172.17.0.5:80",
      "172.17.0.5:81",
    ]);
    assert.deepEqual(where({ ...container, env: { SERVICE_81_NETWORK: "bridge" } }, { internal: true }), [
      "172.18.0.2:80",
      "172.17.0.5:81",
    ]);
    const m = map({ ...container, env: { SERVICE_NETWORK: "nope" } }, { internal: true });
    assert.deepEqual(m.skipped[0], { port: "80/tcp", reason: 'not attached to network "nope" (SERVICE_NETWORK)' });
  });

  test("mapping ports - BERTH_NETWORK is a preference: used when the container is on it, else the usual choice", () => {
    const container = { networkMode: "appnet", networks: { bridge: BRIDGE, appnet: APP }, exposedPorts: expose("80") };
    assert.deepEqual(where(container, { internal: true, network: "bridge" }), ["172.17.0.5:80"]);
    assert.deepEqual(where(container, { internal: true, network: "elsewhere" }), ["172.18.0.2:80"]);
  });

  test("mapping ports - an IPv6-only network gives an IPv6 address", () => {
    const container = { networkMode: "v6", networks: { v6: { ipv6: "fd00:2::7" } }, exposedPorts: expose("80") };
    assert.deepEqual(where(container, { internal: true }), ["fd00:2::7:80"]);
  });

  test("mapping ports - BERTH_INTERNAL without any container address skips the port with the reason", () => {
    const m = map({ networkMode: "bridge", networks: { bridge: {} }, exposedPorts: expose("80") }, { internal: true });
    assert.deepEqual(m.skipped, [{ port: "80/tcp", reason: "the container has no address on any network" }]);
  });

  test("mapping ports - host network mode: exposed ports on the node's address, internal or not (§3.3)", () => {
    const container = { networkMode: "host", networks: { host: {} }, ports: [], exposedPorts: expose("8099", "53/udp") };
    assert.deepEqual(where(container), ["10.0.0.3:53", "10.0.0.3:8099"]);
    assert.deepEqual(where(container, { internal: true }), ["10.0.0.3:53", "10.0.0.3:8099"]);
    assert.deepEqual(where(container, {}, ""), ["(agent):53", "(agent):8099"]);
  });

  test("mapping ports - container:<x> mode: exposed ports on <x>'s address, as the emitter resolved it (§3.5 step 12)", () => {
    const base = { networkMode: `container:${"c".repeat(64)}`, networks: {}, ports: [], exposedPorts: expose("9100") };
    assert.deepEqual(where({ ...base, peerNetworks: { bridge: BRIDGE } }), ["172.17.0.5:9100"]);
    assert.deepEqual(where({ ...base, peerNetworks: { bridge: BRIDGE, appnet: APP }, env: { SERVICE_NETWORK: "appnet" } }), [
      "172.18.0.2:9100",
    ]);
    assert.deepEqual(where({ ...base, peerNetworks: { host: {} } }), ["10.0.0.3:9100"]);
    assert.deepEqual(map(base).skipped, [
      { port: "9100/tcp", reason: "the container whose network it shares (container:<x>) could not be inspected" },
    ]);
  });

  test("mapping ports - network mode none has no services", () => {
    assert.deepEqual(map({ networkMode: "none", ports: [], exposedPorts: expose("80") }).skipped, [
      { port: "80/tcp", reason: "network mode none" },
    ]);
  });
});
