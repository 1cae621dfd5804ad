import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { PassThrough } from "node:stream";
import { describe, test } from "node:test";
import { readEvents, type ContainerInspect, type DockerEvent } from "../emitter/docker.ts";
import { containerFromEvent, eventTypeOf, normaliseContainer, rfc3339ToNanos } from "../emitter/normalise.ts";
import { parseContainerEvent, toContainerEvent } from "../schemas/index.ts";

const running = JSON.parse(readFileSync("test/fixtures/inspect-running.json", "utf8")) as ContainerInspect;
const killed = JSON.parse(readFileSync("test/fixtures/inspect-killed.json", "utf8")) as ContainerInspect;

describe("normalise", () => {
  test("normalise - only SERVICE_* environment leaves the host", () => {
    const c = normaliseContainer(running, []);
    assert.deepEqual(c.env, { SERVICE_NAME: "svc4", SERVICE_TAGS: "a,b" });
    assert.ok(!JSON.stringify(c).includes("hunter2"));
  });

  test("normalise - labels are filtered to SERVICE_*, com.docker.compose.* and configured prefixes", () => {
    assert.deepEqual(normaliseContainer(running, []).labels, { SERVICE_8080_CHECK_HTTP: "/", "com.docker.compose.service": "web" });
    assert.equal(normaliseContainer(running, ["oth"]).labels?.["other"], "x");
  });

  test("normalise - every host binding is kept, with its host IP", () => {
    const c = normaliseContainer(running, []);
    assert.deepEqual(
      new Set(c.ports?.map((p) => `${p.containerPort}/${p.protocol} ${p.hostIp}:${p.hostPort}`)),
      new Set(["8080/tcp 0.0.0.0:8084", "8080/tcp :::8084", "53/udp 127.0.0.1:9053"]),
    );
    assert.deepEqual(c.networks?.["bridge"], { ipv4: running.NetworkSettings!.Networks!["bridge"]!.IPAddress });
    assert.equal(c.name, "fx");
    assert.equal(c.exitCode, undefined);
  });

  test("normalise - a stopped container carries its exit code and a valid event", () => {
    const c = normaliseContainer(killed, []);
    assert.equal(c.exitCode, 137);
    const e = toContainerEvent("io.berth.container.stopped", { name: "node3" }, 1n, c);
    assert.equal(parseContainerEvent(e), e);
  });

  test("normalise - a container already removed is described from the die event", () => {
    const die: DockerEvent = {
      Type: "container",
      Action: "die",
      Actor: { ID: "c".repeat(64), Attributes: { name: "gone", image: "web:1", exitCode: "1", SERVICE_NAME: "w", secret: "s" } },
      time: 1,
      timeNano: 1e9,
    };
    assert.deepEqual(containerFromEvent(die, []), {
      id: "c".repeat(64),
      name: "gone",
      image: "web:1",
      exitCode: 1,
      labels: { SERVICE_NAME: "w" },
    });
  });

  test("normalise - hostile keys cannot reach the prototype and oversize entries are dropped with a reason", () => {
    const info = structuredClone(running);
    info.Config!.Env = ["SERVICE___proto__=x", `SERVICE_BIG=${"x".repeat(5000)}`];
    info.Config!.Labels = { ["__proto__"]: "p", SERVICE_constructor: "c" };
    const dropped: { key: string; reason: string }[] = [];
    const c = normaliseContainer(info, ["__"], dropped);
    assert.deepEqual(Object.keys(c.env ?? {}), ["SERVICE___proto__"]);
    assert.deepEqual(dropped, [{ key: "SERVICE_BIG", reason: "too long" }]);
    assert.equal(Object.getPrototypeOf(c.labels), Object.prototype);
    assert.equal(({} as Record<string, unknown>)["x"], undefined);
  });

  test("normalise - event ids are deterministic per node, container, action and time", () => {
    const c = normaliseContainer(running, []);
    const a = toContainerEvent("io.berth.container.started", { name: "node3" }, 5n, c);
    assert.equal(a.id, toContainerEvent("io.berth.container.started", { name: "node3" }, 5n, c).id);
    assert.notEqual(a.id, toContainerEvent("io.berth.container.started", { name: "node3" }, 6n, c).id);
    assert.notEqual(a.id, toContainerEvent("io.berth.container.stopped", { name: "node3" }, 5n, c).id);
    assert.notEqual(a.id, toContainerEvent("io.berth.container.started", { name: "node2" }, 5n, c).id);
  });

  test("normalise - Docker actions map to event types", () => {
    assert.equal(eventTypeOf("start"), "io.berth.container.started");
    assert.equal(eventTypeOf("die"), "io.berth.container.stopped");
    assert.equal(eventTypeOf("destroy"), "io.berth.container.stopped");
    assert.equal(eventTypeOf("health_status: healthy"), "io.berth.container.health");
    assert.equal(eventTypeOf("exec_start: sh"), undefined);
  });

  test("normalise - RFC 3339 nanosecond times keep every digit", () => {
    assert.equal(rfc3339ToNanos("2026-11-25T21:43:45.123456789Z"), 1795643025123456789n);
    assert.equal(rfc3339ToNanos("2026-11-25T21:43:45Z"), 1795643025000000000n);
    assert.equal(rfc3339ToNanos("2026-11-25T22:43:45.5+01:00"), 1795643025500000000n);
  });

  test("docker-events - two events in one chunk and one split across chunks come out whole", async () => {
    const stream = new PassThrough();
    const line = (n: number) => JSON.stringify({ Type: "container", Action: "start", Actor: { ID: String(n) }, time: n, timeNano: n });
    stream.write(`${line(1)}\n${line(2)}\n${line(3).slice(0, 10)}`);
    stream.write(`${line(3).slice(10)}\n\n`);
    stream.end();
    const seen: string[] = [];
    for await (const e of readEvents(stream, new AbortController().signal)) seen.push(e.Actor.ID);
    assert.deepEqual(seen, ["1", "2", "3"]);
  });

  test("docker-events - aborting, or Docker closing the stream, ends the iteration", async () => {
    for (const end of ["abort", "close"] as const) {
      const stream = new PassThrough();
      const controller = new AbortController();
      const seen: string[] = [];
      const done = (async () => {
        for await (const e of readEvents(stream, controller.signal)) seen.push(e.Actor.ID);
      })();
      stream.write(`${JSON.stringify({ Type: "container", Action: "start", Actor: { ID: "1" }, time: 1, timeNano: 1 })}\n`);
      await new Promise((r) => setImmediate(r));
      if (end === "abort") controller.abort();
      else stream.destroy();
      await done;
      assert.deepEqual(seen, ["1"], end);
    }
  });
});
