// A Swarm task container, from the real inspect of one (test/fixtures/inspect-swarm-task.json, saved
// by test/mapping-swarm.test.ts from `docker service create --name websvc --network appnet
// --publish 18190:8080 --env SERVICE_PORT=8080 --container-label SERVICE_TAGS=swarm`) → the
// emitter's normalisation → the mapping (gliderlabs/registrator#476, #520, #567, #588, #607, #657).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import type { ContainerInspect } from "../emitter/docker.ts";
import { normaliseContainer } from "../emitter/normalise.ts";
import { servicesFor } from "../mapping/services-for.ts";
import type { MappingSettings } from "../mapping/settings.ts";
import { parseContainerEvent, toContainerEvent, type Container } from "../schemas/index.ts";
import { settings } from "./builders.ts";

const task = JSON.parse(readFileSync("test/fixtures/inspect-swarm-task.json", "utf8")) as ContainerInspect;
const OVERLAY = task.NetworkSettings?.Networks?.["appnet"]?.IPAddress ?? "";
const INGRESS = task.NetworkSettings?.Networks?.["ingress"]?.IPAddress ?? "";

const normalised = normaliseContainer(task, []);
const map = (change: (c: Container) => void = () => {}, s: Partial<MappingSettings> = {}) => {
  const container = structuredClone(normalised);
  change(container);
  const event = parseContainerEvent(toContainerEvent("io.berth.container.started", { name: "node8", hostIp: "10.0.0.8" }, 1n, container));
  return servicesFor(event, settings(s));
};

describe("mapping swarm task", () => {
  test("swarm task - the real inspect: the labels Docker gives a task travel, and nothing says which ports ingress publishes", () => {
    assert.deepEqual(normalised.labels, {
      SERVICE_TAGS: "swarm",
      "com.docker.swarm.node.id": task.Config?.Labels?.["com.docker.swarm.node.id"],
      "com.docker.swarm.service.id": task.Config?.Labels?.["com.docker.swarm.service.id"],
      "com.docker.swarm.service.name": "websvc",
      "com.docker.swarm.task": "",
      "com.docker.swarm.task.id": task.Config?.Labels?.["com.docker.swarm.task.id"],
      "com.docker.swarm.task.name": normalised.name,
    });
    assert.deepEqual([normalised.networkMode, normalised.ports, normalised.exposedPorts], ["default", [], []]);
    assert.deepEqual(Object.keys(normalised.networks ?? {}).sort(), ["appnet", "ingress"]);
  });

  test("swarm task - the Swarm service's name, its address on the service's overlay network (not ingress), the SERVICE_PORT it listens on", () => {
    const { services, skipped, warnings } = map();
    assert.deepEqual(
      services.map((s) => [s.ID, s.Name, s.Address, s.Port, s.Tags]),
      [[`node8:${normalised.name}:${normalised.id.slice(0, 12)}:8080`, "websvc", OVERLAY, 8080, ["swarm"]]],
    );
    assert.deepEqual([skipped, warnings], [[], []]);
  });

  const table: [string, (c: Container) => void, Partial<MappingSettings>, string[]][] = [
    ["SERVICE_NAME still names it", (c) => (c.env = { ...c.env, SERVICE_NAME: "shop" }), {}, [`shop ${OVERLAY}:8080`]],
    ["BERTH_NAME_FROM=compose does not change a task's name", () => {}, { nameFrom: "compose" }, [`websvc ${OVERLAY}:8080`]],
    ["SERVICE_NETWORK chooses even ingress", (c) => (c.env = { ...c.env, SERVICE_NETWORK: "ingress" }), {}, [`websvc ${INGRESS}:8080`]],
    ["only on ingress: nothing", (c) => (c.networks = { ingress: { ipv4: INGRESS } }), {}, []],
    [
      "without the swarm labels (an emitter before this one): a container like any other",
      (c) => (c.labels = { SERVICE_TAGS: "swarm" }),
      {},
      [`busybox ${OVERLAY}:8080`],
    ],
  ];
  for (const [what, change, s, expected] of table) {
    test(`swarm task - ${what}`, () => {
      assert.deepEqual(
        map(change, s).services.map((svc) => `${svc.Name} ${svc.Address}:${svc.Port}`),
        expected,
      );
    });
  }

  test("swarm task - without SERVICE_PORT there is no port to register: the reason says why", () => {
    assert.deepEqual(map((c) => (c.env = {})).skipped, [
      {
        reason:
          "no ports: a Swarm task's ingress-published ports are known only to the managers; name the port the task listens on with SERVICE_PORT",
      },
    ]);
    assert.deepEqual(
      map((c) => (c.env = { SERVICE_PORT: "http" })).skipped,
      [{ reason: 'SERVICE_PORT: "http" is not a port such as 9000 or 53/udp' }],
      "a bad SERVICE_PORT says so itself",
    );
    assert.deepEqual(map((c) => (c.networks = { ingress: { ipv4: INGRESS } })).skipped, [
      {
        port: "8080/tcp",
        reason: `the container is on no network but Swarm's "ingress": attach the service to an overlay network, or name it with SERVICE_NETWORK`,
      },
    ]);
  });
});
