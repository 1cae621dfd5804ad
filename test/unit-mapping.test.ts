// servicesFor: names, IDs, tags, policies (registrator.md §3.3, §3.5–3.9). Ports and addresses:
// unit-mapping-ports; key grammar: unit-mapping-keys; checks, Meta: their own files; the
// deliberate differences from registrator: unit-mapping-differences.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Container, ContainerEventType } from "../schemas/index.ts";
import { ownedByContainer, servicesFor } from "../mapping/services-for.ts";
import { imageBaseName } from "../mapping/naming.ts";
import type { MappingSettings } from "../mapping/settings.ts";
import { ID_A, event, expose, publish, settings } from "./builders.ts";

const ID12 = ID_A.slice(0, 12);
const map = (container: Partial<Container>, s: Partial<MappingSettings> = {}, type?: ContainerEventType) =>
  servicesFor(event({ container, ...(type ? { type } : {}) }), settings(s));

describe("mapping", () => {
  test("mapping - svc4: one published port → one service on the node's address with ownership Meta", () => {
    const { services, skipped, warnings, keep } = servicesFor(event(), settings());
    assert.deepEqual(services, [
      {
        ID: `node3:svc4:${ID12}:8080`,
        Name: "svc4",
        Tags: [],
        Address: "10.0.0.3",
        Port: 8084,
        Meta: { berth_node: "node3", berth_container: ID_A },
      },
    ]);
    assert.deepEqual({ skipped, warnings, keep }, { skipped: [], warnings: [], keep: false });
  });

  test("mapping - default names: the image's base name (registrator §3.5 examples)", () => {
    for (const [image, name] of [
      ["gliderlabs/foobar", "foobar"],
      ["redis:latest", "redis"],
      ["registry.example.com:5000/team/api:1.2.3", "api"],
      ["redis", "redis"],
    ] as const) {
      assert.equal(imageBaseName(image), name, image);
      assert.equal(map({ image, env: {} }).services[0]?.Name, name, image);
    }
  });

  test("mapping - several ports: generic and default names get -<port>, SERVICE_<port>_NAME never does", () => {
    const ports = publish("8443:443", "8080:80");
    assert.deepEqual(
      map({ ports, env: {} }).services.map((s) => s.Name),
      ["web-80", "web-443"],
    );
    assert.deepEqual(
      map({ ports, env: { SERVICE_NAME: "api" } }).services.map((s) => s.Name),
      ["api-80", "api-443"],
    );
    assert.deepEqual(
      map({ ports, env: { SERVICE_NAME: "api", SERVICE_443_NAME: "api-tls" } }).services.map((s) => s.Name),
      ["api-80", "api-tls"],
    );
  });

  test("mapping - TCP and UDP on one port number share the name, told apart by the :udp ID suffix and the udp tag (§3.6, §3.8)", () => {
    const { services } = map({ ports: publish("53:53", "53:53/udp"), env: { SERVICE_NAME: "coredns" } });
    assert.deepEqual(
      services.map((s) => [s.Name, s.ID, s.Tags]),
      [
        ["coredns-53", `node3:svc4:${ID12}:53`, []],
        ["coredns-53", `node3:svc4:${ID12}:53:udp`, ["udp"]],
      ],
    );
  });

  test("mapping - SERVICE_IGNORE skips every port; SERVICE_<port>_IGNORE one", () => {
    assert.deepEqual(map({ env: { SERVICE_IGNORE: "1" } }).services, []);
    assert.equal(map({ ports: publish("1:1", "2:2"), labels: { SERVICE_2_IGNORE: "yes" } }).services.length, 1);
  });

  test("mapping - IDs are <node>:<container name>:<id12>:<port>[:udp], unique per incarnation", () => {
    assert.equal(map({ ports: publish("9053:53/udp") }).services[0]?.ID, `node3:svc4:${ID12}:53:udp`);
    assert.notEqual(map({}).services[0]?.ID, map({ id: "b".repeat(64) }).services[0]?.ID);
  });

  test("mapping - SERVICE_ID and SERVICE_<port>_ID replace the whole ID (§3.5 step 15)", () => {
    assert.equal(map({ ports: publish("9053:53/udp"), env: { SERVICE_ID: "dns1" } }).services[0]?.ID, "dns1");
    const { services } = map({ ports: publish("1:80", "2:443"), env: { SERVICE_80_ID: "web-a", SERVICE_443_ID: "web-b" } });
    assert.deepEqual(
      services.map((s) => s.ID),
      ["web-a", "web-b"],
    );
  });

  test("mapping - two ports given the same SERVICE_<port>_ID: the second falls back to its default ID, with a warning", () => {
    const { services, warnings } = map({ ports: publish("1:80", "2:443"), env: { SERVICE_80_ID: "x", SERVICE_443_ID: "x" } });
    assert.deepEqual(
      services.map((s) => s.ID),
      ["x", `node3:svc4:${ID12}:443`],
    );
    assert.equal(warnings.length, 1);
  });

  test("mapping - tags: SERVICE_TAGS then BERTH_TAGS then the protocol tag", () => {
    const { services } = map({ ports: publish("53:53/udp"), env: { SERVICE_TAGS: "a,b" } }, { tags: ["dc1", "prod"] });
    assert.deepEqual(services[0]?.Tags, ["a", "b", "dc1", "prod", "udp"]);
  });

  test("mapping - BERTH_EXPLICIT registers only ports with SERVICE_NAME or SERVICE_<port>_NAME, from env or label", () => {
    const ports = publish("1:80", "2:443");
    const explicit = { explicit: true };
    assert.deepEqual(
      map({ ports, env: {} }, explicit).skipped.map((s) => s.reason),
      ["BERTH_EXPLICIT is set and SERVICE_NAME is not", "BERTH_EXPLICIT is set and SERVICE_NAME is not"],
    );
    assert.deepEqual(
      map({ ports, env: {}, labels: { SERVICE_443_NAME: "tls" } }, explicit).services.map((s) => s.Name),
      ["tls"],
    );
    assert.equal(map({ ports, env: { SERVICE_NAME: "w" } }, explicit).services.length, 2);
  });

  test("mapping - BERTH_NAME_FROM=compose names services after the Compose service, else the image", () => {
    const labels = { "com.docker.compose.service": "frontend" };
    assert.equal(map({ env: {}, labels }, { nameFrom: "compose" }).services[0]?.Name, "frontend");
    assert.equal(map({ env: {}, labels }).services[0]?.Name, "web");
    assert.equal(map({ env: {} }, { nameFrom: "compose" }).services[0]?.Name, "web");
    assert.equal(map({ env: { SERVICE_NAME: "x" }, labels }, { nameFrom: "compose" }).services[0]?.Name, "x");
  });

  test("mapping - a container without a name source is skipped with the reason", () => {
    assert.deepEqual(map({ image: "", env: {} }).skipped, [
      { port: "8080/tcp", reason: "no name: set SERVICE_NAME (the image is unknown)" },
    ]);
  });

  test("mapping - a container with no published port has no services, and says why", () => {
    assert.deepEqual(map({ ports: [] }).skipped, [{ reason: "no published ports" }]);
  });

  test("mapping - deregistration policy (registrator §3.9 shouldRemove table)", () => {
    const stopped = "io.berth.container.stopped" as const;
    for (const [deregister, container, keep] of [
      ["always", { exitCode: 1 }, false],
      ["always", {}, false],
      ["on-success", { exitCode: 0 }, false],
      ["on-success", { exitCode: 130 }, false],
      ["on-success", { exitCode: 137 }, false],
      ["on-success", { exitCode: 143 }, false],
      ["on-success", { exitCode: 1 }, true],
      ["on-success", { exitCode: 2 }, true],
      ["on-success", { exitCode: 127 }, true],
      ["on-success", { exitCode: 1, removed: true }, false],
      ["on-success", {}, true],
    ] as const) {
      const m = map(container, { deregister }, stopped);
      assert.deepEqual({ services: m.services, keep: m.keep }, { services: [], keep }, `${deregister} ${JSON.stringify(container)}`);
    }
  });

  test("mapping - a container that is not running has no services whatever the event says", () => {
    assert.deepEqual(map({ exitCode: 0 }).services, []);
  });

  test("mapping - health and rename events of a running container map like a start", () => {
    assert.equal(map({}, {}, "io.berth.container.health").services.length, 1);
    assert.equal(map({}, {}, "io.berth.container.renamed").services.length, 1);
  });

  test("mapping - exposed ports are listed as skipped when only published ones count", () => {
    const { skipped } = map({ exposedPorts: expose("8080", "9000") });
    assert.deepEqual(
      skipped.map((s) => s.port),
      ["9000/tcp"],
    );
  });

  test("mapping - the ownership filter names node and container", () => {
    assert.equal(ownedByContainer("node3", "ab"), 'Meta.berth_node == "node3" and Meta.berth_container == "ab"');
  });
});
