// One test per deliberate difference from registrator (DESIGN.md §4, README "Migrating from
// registrator"); each name says which registrator behaviour it replaces.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Container } from "../schemas/index.ts";
import { servicesFor } from "../mapping/services-for.ts";
import { imageBaseName } from "../mapping/naming.ts";
import type { MappingSettings } from "../mapping/settings.ts";
import { ID_A, event, expose, publish, settings } from "./builders.ts";

const map = (container: Partial<Container>, s: Partial<MappingSettings> = {}, hostIp?: string) =>
  servicesFor(event({ container, ...(hostIp === undefined ? {} : { hostIp }) }), settings(s));
const first = (container: Partial<Container>, s: Partial<MappingSettings> = {}, hostIp?: string) => map(container, s, hostIp).services[0];

describe("mapping differences", () => {
  test("mapping - tag order is kept (registrator reverses it)", () => {
    assert.deepEqual(first({ env: { SERVICE_TAGS: "a,b" } }, { tags: ["dc1", "prod"] })?.Tags, ["a", "b", "dc1", "prod"]);
  });

  test("mapping - whitespace around tags is trimmed (registrator keeps ' b')", () => {
    assert.deepEqual(first({ env: { SERVICE_TAGS: "a, b,,c" } }, { tags: ["x"] })?.Tags, ["a", "b", "c", "x"]);
  });

  test("mapping - SERVICE_IGNORE=false does not ignore (registrator ignores on any non-empty value)", () => {
    assert.equal(map({ env: { SERVICE_IGNORE: "false" } }).services.length, 1);
    assert.equal(map({ env: { SERVICE_8080_IGNORE: "0" } }).services.length, 1);
  });

  test("mapping - SERVICE_CHECK_TCP/GRPC/GRPC_USE_TLS=false mean false (registrator treats any value as true)", () => {
    assert.equal(first({ env: { SERVICE_CHECK_TCP: "false" } })?.Check, undefined);
    assert.deepEqual(first({ env: { SERVICE_CHECK_GRPC: "true", SERVICE_CHECK_GRPC_USE_TLS: "false" } })?.Check, {
      GRPC: "10.0.0.3:8084",
      Interval: "10s",
    });
  });

  test("mapping - a generic SERVICE_ID on several ports gives each its own ID (registrator gives all the same ID, last one wins)", () => {
    const { services } = map({ ports: publish("1:80", "2:53/udp"), env: { SERVICE_ID: "api" } });
    assert.deepEqual(
      services.map((s) => s.ID),
      ["api:53:udp", "api:80"],
    );
  });

  test("mapping - a published port on a user-defined network is advertised on the host's address (registrator pairs the container IP with the host port)", () => {
    const svc = first({ networkMode: "appnet", networks: { appnet: { ipv4: "172.18.0.2" } }, ports: publish("8084:8080") });
    assert.deepEqual([svc?.Address, svc?.Port], ["10.0.0.3", 8084]);
  });

  test("mapping - a binding's specific host IP beats BERTH_HOST_IP (registrator's -ip overrides it)", () => {
    assert.equal(first({ ports: publish("127.0.0.1:8084:8080") })?.Address, "127.0.0.1");
  });

  test("mapping - IPv6 addresses are bracketed in check URLs and addresses (registrator writes ip:port unbracketed)", () => {
    const svc = first({ ports: publish("8084:8080"), env: { SERVICE_CHECK_HTTP: "/h", SERVICE_CHECK_TCP: "1" } }, {}, "fd00::3");
    assert.equal(svc?.Address, "fd00::3");
    assert.deepEqual(
      svc.Checks?.map((c) => c.HTTP ?? c.TCP),
      ["http://[fd00::3]:8084/h", "[fd00::3]:8084"],
    );
  });

  test("mapping - an invalid Meta key is dropped with a warning (registrator's registration fails whole with a 400)", () => {
    const m = map({ labels: { "SERVICE_com.example.team": "x", SERVICE_TEAM: "core" } });
    assert.equal(m.services[0]?.Meta?.["team"], "core");
    assert.equal(m.services[0].Meta["com.example.team"], undefined);
    assert.equal(m.warnings.length, 1);
  });

  test("mapping - check keys are not copied into Meta (registrator copies every check_* key and ignore)", () => {
    assert.deepEqual(Object.keys(first({ env: { SERVICE_CHECK_HTTP: "/", SERVICE_CHECK_INTERVAL: "15s" } })?.Meta ?? {}), [
      "berth_node",
      "berth_container",
    ]);
  });

  test("mapping - TLS skip verify works for HTTPS checks (registrator: only gRPC with TLS)", () => {
    assert.equal(first({ env: { SERVICE_CHECK_HTTPS: "/", SERVICE_CHECK_TLS_SKIP_VERIFY: "true" } })?.Check?.TLSSkipVerify, true);
  });

  test("mapping - several check kinds give several Checks (registrator keeps only the first by precedence)", () => {
    const svc = first({ env: { SERVICE_CHECK_HTTP: "/", SERVICE_CHECK_TTL: "30s" } });
    assert.deepEqual(svc?.Checks, [{ HTTP: "http://10.0.0.3:8084/", Interval: "10s" }, { TTL: "30s" }]);
  });

  test("mapping - a script check runs through sh -c (registrator sends the whole line as one argv element, #687)", () => {
    assert.deepEqual(first({ env: { SERVICE_CHECK_SCRIPT: "curl -f localhost" } })?.Check?.Args, ["sh", "-c", "curl -f localhost"]);
  });

  test("mapping - SERVICE_CHECK_TIMEOUT applies to script checks too (registrator: only http, https, tcp, grpc)", () => {
    assert.equal(first({ env: { SERVICE_CHECK_SCRIPT: "true", SERVICE_CHECK_TIMEOUT: "3s" } })?.Check?.Timeout, "3s");
  });

  test("mapping - an invalid check duration or status is dropped with a warning (registrator's registration fails whole with a 400)", () => {
    const m = map({ env: { SERVICE_CHECK_HTTP: "/", SERVICE_CHECK_INTERVAL: "10 seconds" } });
    assert.equal(m.services[0]?.Check?.Interval, "10s");
    assert.equal(m.warnings.length, 1);
  });

  test("mapping - the default name drops an image digest: redis@sha256:… → redis (registrator: redis@sha256)", () => {
    assert.equal(imageBaseName("redis@sha256:abc"), "redis");
  });

  test("mapping - IDs name berth's node and the container's ID (registrator: its own hostname, shared by incarnations)", () => {
    assert.equal(first({})?.ID, `node3:svc4:${ID_A.slice(0, 12)}:8080`);
  });

  test("mapping - the container address comes from one network chosen deterministically (registrator: Go map order, #498)", () => {
    const networks = { zeta: { ipv4: "10.9.0.2" }, alpha: { ipv4: "10.8.0.2" } };
    assert.equal(first({ networkMode: "gone", networks, ports: [], exposedPorts: expose("80") }, { internal: true })?.Address, "10.8.0.2");
  });

  test("mapping - an SCTP port gets the :sctp ID suffix and tag (registrator gives it the TCP port's ID)", () => {
    const { services } = map({ ports: publish("1:80", "2:80/sctp") });
    const id12 = ID_A.slice(0, 12);
    assert.deepEqual(
      services.map((s) => [s.ID, s.Tags]),
      [
        [`node3:svc4:${id12}:80:sctp`, ["sctp"]],
        [`node3:svc4:${id12}:80`, []],
      ],
    );
  });

  test("mapping - a port skipped by SERVICE_IGNORE does not count toward the -<port> suffix (registrator: it did, gliderlabs/registrator#252)", () => {
    const { services, skipped } = map({ ports: publish("8080:80", "8443:443"), env: { SERVICE_443_IGNORE: "true" } });
    assert.deepEqual(
      services.map((s) => s.Name),
      ["web"],
    );
    assert.deepEqual(skipped, [{ port: "443/tcp", reason: "SERVICE_IGNORE is set" }]);
  });

  test("mapping - on-success: a removed container's services go (registrator: 'could not fetch exit code' also removes, but forgets kept ones for good)", () => {
    const m = map({ exitCode: 1, removed: true }, { deregister: "on-success" });
    assert.deepEqual([m.services, m.keep], [[], false]);
  });
});
