// The mapping settings from the environment, and what the emitter puts on the wire for the mapping.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { createLogger } from "../common/log.ts";
import type { ContainerInspect, DockerSource } from "../emitter/docker.ts";
import { emitEvent } from "../emitter/watch.ts";
import { networkPeerOf, normaliseContainer } from "../emitter/normalise.ts";
import { loadHandlerConfig } from "../handler/config.ts";
import { loadMappingSettings } from "../cli/mapping-config.ts";
import { DEFAULT_MAPPING_SETTINGS, mappingSettings } from "../mapping/settings.ts";
import { parseContainerEvent, toContainerEvent, type BerthEvent, type ContainerEvent } from "../schemas/index.ts";
import { configProblems } from "./builders.ts";

const running = JSON.parse(readFileSync("test/fixtures/inspect-running.json", "utf8")) as ContainerInspect;

/** The problems of the ConfigError `load` throws. */

describe("mapping settings", () => {
  test("mapping settings - defaults are registrator's", () => {
    assert.deepEqual(loadMappingSettings({}), DEFAULT_MAPPING_SETTINGS);
    assert.deepEqual(mappingSettings(loadHandlerConfig({})), DEFAULT_MAPPING_SETTINGS);
  });

  test("mapping settings - every variable is read and typed", () => {
    const env = {
      BERTH_INTERNAL: "true",
      BERTH_EXPLICIT: "true",
      BERTH_TAGS: "dc1, a\\,b",
      BERTH_DEREGISTER: "on-success",
      BERTH_NETWORK: "app_net.1",
      BERTH_NAME_FROM: "compose",
      BERTH_NAME_SUFFIX: "never",
      BERTH_ADDRESS_FAMILY: "ipv6",
      BERTH_HEALTH_INITIAL_STATUS: "warning",
    };
    assert.deepEqual(loadMappingSettings(env), {
      internal: true,
      explicit: true,
      tags: ["dc1", "a,b"],
      deregister: "on-success",
      network: "app_net.1",
      nameFrom: "compose",
      nameSuffix: "never",
      addressFamily: "ipv6",
      healthInitialStatus: "warning",
    });
    assert.deepEqual(mappingSettings(loadHandlerConfig(env)), loadMappingSettings(env));
  });

  test("mapping settings - every bad value is listed at once, by the handler too", () => {
    const env = {
      BERTH_INTERNAL: "maybe",
      BERTH_EXPLICIT: "2",
      BERTH_DEREGISTER: "never",
      BERTH_NETWORK: "-bad net",
      BERTH_NAME_FROM: "label",
      BERTH_NAME_SUFFIX: "sometimes",
      BERTH_ADDRESS_FAMILY: "ipv5",
    };
    const found = configProblems(() => loadMappingSettings(env));
    assert.equal(found.length, 7, found.join("\n"));
    for (const key of Object.keys(env))
      assert.ok(
        found.some((p) => p.includes(key)),
        key,
      );
    assert.equal(configProblems(() => loadHandlerConfig(env)).length, 7);
  });

  test("mapping wire - container:<x> network mode: the emitter adds <x>'s networks", () => {
    const peerId = "f".repeat(64);
    const sidecar = structuredClone(running);
    sidecar.HostConfig!.NetworkMode = `container:${peerId}`;
    sidecar.NetworkSettings!.Networks = {};
    assert.equal(networkPeerOf(sidecar), peerId);
    assert.equal(networkPeerOf(running), undefined);
    const c = normaliseContainer(sidecar, [], [], running);
    assert.deepEqual(c.peerNetworks, { bridge: { ipv4: running.NetworkSettings!.Networks!["bridge"]!.IPAddress } });
    assert.equal(normaliseContainer(sidecar, []).peerNetworks, undefined);
    assert.equal(normaliseContainer(running, [], [], running).peerNetworks, undefined);
    const e = toContainerEvent("io.berth.container.started", { name: "node3" }, 1n, c);
    assert.equal(parseContainerEvent(e), e);
  });

  test("mapping wire - removed is on the wire only as true", () => {
    const c = { ...normaliseContainer(running, []), removed: true as const };
    assert.ok(parseContainerEvent(toContainerEvent("io.berth.container.stopped", { name: "node3" }, 1n, c)));
    const bad = { ...c, removed: false } as unknown as typeof c;
    assert.throws(() => parseContainerEvent(toContainerEvent("io.berth.container.stopped", { name: "node3" }, 1n, bad)));
  });

  test("mapping wire - the watch loop inspects a container:<x> peer, publishes a die from the event alone, and marks a container gone at destroy as removed", async () => {
    const peerId = "f".repeat(64);
    const sidecar = structuredClone(running);
    sidecar.HostConfig!.NetworkMode = `container:${peerId}`;
    const inspected = new Map<string, ContainerInspect>([
      [running.Id, sidecar],
      [peerId, running],
    ]);
    const published: ContainerEvent[] = [];
    const inspects: string[] = [];
    const deps = {
      docker: {
        inspect: (id: string) => {
          inspects.push(id);
          return Promise.resolve(inspected.get(id));
        },
      } as unknown as DockerSource,
      publish: (e: BerthEvent) => {
        if (e.type !== "io.berth.node.snapshot") published.push(e);
        return Promise.resolve();
      },
      node: { name: "node3" },
      labelPrefixes: [],
      log: createLogger("emitter", "silent"),
      signal: new AbortController().signal,
    };
    const dockerEvent = (id: string, Action: string, Attributes: Record<string, string>) => ({
      Type: "container",
      Action,
      Actor: { ID: id, Attributes },
      time: 1,
      timeNano: 1e9,
    });
    await emitEvent(deps, dockerEvent(running.Id, "start", { name: "x" }));
    await emitEvent(
      deps,
      dockerEvent(running.Id, "die", { name: "x", image: "busybox", exitCode: "1", "com.example.team": "a", SECRET: "b" }),
    );
    await emitEvent(deps, dockerEvent("e".repeat(64), "destroy", { name: "x" }));
    assert.deepEqual(inspects, [running.Id, peerId, "e".repeat(64)], "no inspect for the die");
    assert.deepEqual(published[0]?.data.container.peerNetworks, {
      bridge: { ipv4: running.NetworkSettings!.Networks!["bridge"]!.IPAddress },
    });
    assert.deepEqual(published[1]?.data.container, { id: running.Id, name: "x", image: "busybox", exitCode: 1, labels: {} });
    assert.deepEqual([published[2]?.type, published[2]?.data.container.removed], ["io.berth.container.stopped", true]);
  });
});
