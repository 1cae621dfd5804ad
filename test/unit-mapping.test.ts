import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { imageBaseName, ownedByContainer, publishedPorts, servicesFor } from "../handler/mapping.ts";
import { event } from "./builders.ts";

describe("mapping", () => {
  test("mapping - svc4: one published port → one service on the node's address with ownership Meta", () => {
    const [svc, ...rest] = servicesFor(event());
    assert.equal(rest.length, 0);
    assert.deepEqual(svc, {
      ID: `node3:svc4:${"a".repeat(12)}:8080`,
      Name: "svc4",
      Tags: [],
      Address: "10.0.0.3",
      Port: 8084,
      Meta: { berth_node: "node3", berth_container: "a".repeat(64) },
    });
  });

  test("mapping - without BERTH_HOST_IP the Address is left to the agent's node address", () => {
    assert.equal(servicesFor(event({ hostIp: "" }))[0]?.Address, undefined);
  });

  test("mapping - a binding to a specific host IP is advertised on that IP", () => {
    const ports = [{ containerPort: 53, protocol: "udp" as const, hostIp: "127.0.0.1", hostPort: 9053 }];
    const [svc] = servicesFor(event({ container: { ports } }));
    assert.equal(svc?.Address, "127.0.0.1");
    assert.ok(svc?.ID.endsWith(":53:udp"));
    assert.deepEqual(svc?.Tags, ["udp"]);
  });

  test("mapping - the 0.0.0.0 and :: bindings of one port are one service", () => {
    const ports = [
      { containerPort: 8080, protocol: "tcp" as const, hostIp: "0.0.0.0", hostPort: 8084 },
      { containerPort: 8080, protocol: "tcp" as const, hostIp: "::", hostPort: 8084 },
    ];
    assert.equal(publishedPorts(event({ container: { ports } }).data.container).length, 1);
  });

  test("mapping - several ports get the -<port> suffix and distinct IDs", () => {
    const ports = [
      { containerPort: 443, protocol: "tcp" as const, hostPort: 8443 },
      { containerPort: 80, protocol: "tcp" as const, hostPort: 8080 },
    ];
    const services = servicesFor(event({ container: { ports, env: {} } }));
    assert.deepEqual(services.map((s) => s.Name), ["web-80", "web-443"]);
    assert.equal(new Set(services.map((s) => s.ID)).size, 2);
  });

  test("mapping - SERVICE_TAGS, labels over env, and SERVICE_IGNORE", () => {
    const tagged = servicesFor(event({ container: { env: { SERVICE_NAME: "a", SERVICE_TAGS: "x, y,," }, labels: { SERVICE_NAME: "b" } } }));
    assert.equal(tagged[0]?.Name, "b");
    assert.deepEqual(tagged[0]?.Tags, ["x", "y"]);
    assert.deepEqual(servicesFor(event({ container: { env: { SERVICE_IGNORE: "true" } } })), []);
    assert.equal(servicesFor(event({ container: { env: { SERVICE_IGNORE: "false" } } })).length, 1);
  });

  test("mapping - a stopped container, or one with no published port, has no services", () => {
    assert.deepEqual(servicesFor(event({ type: "io.berth.container.stopped" })), []);
    assert.deepEqual(servicesFor(event({ container: { ports: [] } })), []);
  });

  test("mapping - two incarnations of one container name get different service IDs", () => {
    const first = servicesFor(event())[0]?.ID;
    const second = servicesFor(event({ container: { id: "b".repeat(64) } }))[0]?.ID;
    assert.notEqual(first, second);
  });

  test("mapping - image base names", () => {
    assert.equal(imageBaseName("registry.local:5000/team/web:1.2"), "web");
    assert.equal(imageBaseName("redis"), "redis");
    assert.equal(imageBaseName("library/redis@sha256:abc"), "redis");
  });

  test("mapping - the ownership filter names node and container", () => {
    assert.equal(ownedByContainer("node3", "ab"), 'Meta.berth_node == "node3" and Meta.berth_container == "ab"');
  });
});
