import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createLogger } from "../common/log.ts";
import { ConsulError } from "../consul/client.ts";
import { handleMessage } from "../handler/consume.ts";
import { stamped } from "../mapping/fingerprint.ts";
import { servicesFor } from "../mapping/services-for.ts";
import { nodeDrift } from "../handler/reconcile.ts";
import { subjectFor, toNodeSnapshot, type ContainerEvent } from "../schemas/index.ts";
import { bytesOf, event, isolation, message, settings } from "./builders.ts";
import { FULL_READ_EVERY_MS } from "../handler/snapshot.ts";
import { ID, setup, started } from "./unit-reconcile-fixture.ts";

const asAgentService = (e: ContainerEvent) =>
  Object.fromEntries(
    servicesFor(e, settings())
      .services.map(stamped)
      .map((s) => [
        s.ID,
        { ID: s.ID, Service: s.Name, Tags: s.Tags ?? [], Meta: s.Meta ?? {}, Port: s.Port ?? 0, Address: s.Address ?? "" },
      ]),
  );

describe("reconcile", () => {
  test("reconcile - drift counts missing, changed and stale services, and ignores services without container ownership", () => {
    const a = started("a", 1n);
    const b = started("b", 1n);
    const actual = { ...asAgentService(a), ...asAgentService(started("c", 1n)) };
    const changed = Object.values(asAgentService(b))[0]!;
    actual[changed.ID] = { ...changed, Meta: { ...changed.Meta, berth_hash: "old" } };
    actual["by-hand"] = { ID: "by-hand", Service: "db", Tags: [], Meta: { berth_node: "node3" }, Port: 1, Address: "" };
    const drift = nodeDrift(
      new Map([
        [a.subject, a],
        [b.subject, b],
      ]),
      actual,
      settings(),
    );
    assert.deepEqual(drift, { containers: [ID("b"), ID("c")], missing: 1, stale: 1 });
  });

  test("reconcile - a snapshot removes containers that stopped unseen, registers missing ones, and PUTs nothing unchanged", async () => {
    const { agent, send, snapshot, writes } = setup();
    await send(started("a", 1n));
    await send(started("b", 1n));
    await send(started("c", 1n));
    agent.services_.delete([...agent.services_.keys()].find((k) => k.includes(":cccccccccccc:"))!); // lost from the agent
    agent.services_.set("handmade", { ID: "handmade", Name: "db" }); // not berth's
    // Not berth's either, though its ID is exactly the form berth gives b's service: ownership is the meta, not the ID.
    agent.services_.set("node3:svc-x:bbbbbbbbbbbb:8080", {
      ID: "node3:svc-x:bbbbbbbbbbbb:8080",
      Name: "svc-x",
      Meta: { berth_node: "node3" },
    });
    agent.services_.set("foreign", { ID: "foreign", Name: "x", Meta: { berth_node: "node1", berth_container: ID("f") } });
    agent.calls.length = 0;
    await snapshot(5n, [ID("a"), ID("c")]); // b died while nobody watched
    assert.deepEqual(writes().sort(), [`deregister node3:svc-b:bbbbbbbbbbbb:8080`, `register node3:svc-c:cccccccccccc:8080`]);
    assert.equal(agent.calls.filter((c) => c.startsWith("services")).length, 1, "one listing of the node, none more per drifted container");
    assert.deepEqual([...agent.services_.keys()].sort(), [
      "foreign",
      "handmade",
      "node3:svc-a:aaaaaaaaaaaa:8080",
      "node3:svc-c:cccccccccccc:8080",
      "node3:svc-x:bbbbbbbbbbbb:8080",
    ]);
    agent.calls.length = 0;
    await snapshot(6n, [ID("a"), ID("c")]);
    assert.deepEqual(writes(), [], "a converged node costs one listing and no writes");
  });

  test("reconcile - a start newer than the snapshot is not undone by it", async () => {
    const { agent, send, snapshot } = setup();
    await send(started("a", 10n));
    await snapshot(5n, []);
    assert.equal(agent.services_.size, 1);
  });

  test("reconcile - an old start redelivered after its stop was pruned does not resurrect the service", async () => {
    const { agent, bucket, send, snapshot } = setup();
    await send(started("a", 1n));
    await send(event({ type: "io.berth.container.stopped", timeNano: 2n, container: { id: ID("a"), name: "svc-a" } }));
    await snapshot(5n, []);
    assert.equal(bucket.entries.has(`node3.${ID("a")}`), false, "the stopped state is pruned");
    await send(started("a", 1n));
    assert.equal(agent.services_.size, 0);
  });

  test("reconcile - a start of now redelivered after its stop was pruned meets the deletion's marker: history, not resurrected", async () => {
    const { agent, bucket, send, snapshot } = setup();
    const now = BigInt(Date.now()) * 1_000_000n;
    await send(started("a", now + 1n));
    await send(event({ type: "io.berth.container.stopped", timeNano: now + 2n, container: { id: ID("a"), name: "svc-a" } }));
    await snapshot(now + 5n, []);
    assert.equal(bucket.entries.has(`node3.${ID("a")}`), false, "the stopped state is pruned");
    assert.ok(bucket.deleted.has(`node3.${ID("a")}`), "its deletion's marker stays");
    await send(started("a", now + 1n));
    assert.equal(agent.services_.size, 0);
    await send(started("a", now + 9n)); // started again, after the snapshot: not history
    assert.equal(agent.services_.size, 1);
  });

  test("reconcile - a container's first start (of now) reads neither the snapshot nor its time: one create, then the re-read", async () => {
    const { agent, bucket, send, snapshot } = setup();
    const now = BigInt(Date.now()) * 1_000_000n;
    await snapshot(now, []);
    const read: string[] = [];
    const get = bucket.get.bind(bucket);
    bucket.get = (key) => (read.push(key), get(key));
    await send(started("a", now + 1n));
    assert.equal(agent.services_.size, 1);
    assert.deepEqual(read, [`node3.${ID("a")}`], "only the re-read after the registration");
  });

  test("reconcile - under on-success, a failed container's kept services survive later snapshots (its state is not pruned)", async () => {
    const { agent, bucket, send, snapshot } = setup(settings({ deregister: "on-success" }));
    const snap = (at: bigint) => snapshot(at, []);
    await send(started("a", 1n));
    await send(event({ type: "io.berth.container.stopped", timeNano: 2n, container: { id: ID("a"), name: "svc-a", exitCode: 1 } }));
    for (const at of [5n, 10n, 15n]) await snap(at);
    assert.equal(agent.services_.size, 1, "exit 1 keeps the service, however many snapshots pass");
    assert.ok(bucket.entries.has(`node3.${ID("a")}`), "its state stays to say so");
    await send(event({ type: "io.berth.container.stopped", timeNano: 20n, container: { id: ID("a"), name: "svc-a", removed: true } }));
    assert.equal(agent.services_.size, 0, "docker rm removes it");
    // The next snapshot that reads all of the node's states (handler/snapshot.ts): the next window's first.
    await snap(25n + BigInt(FULL_READ_EVERY_MS) * 1_000_000n);
    assert.equal(bucket.entries.has(`node3.${ID("a")}`), false, "then its state is pruned");
  });

  test("reconcile - an old start is judged against the node's latest snapshot, not one read before", async () => {
    const { agent, bucket, send, snapshot } = setup();
    await send(started("a", 1n));
    await snapshot(5n, [ID("a")]);
    await send(started("c", 6n)); // checked against the snapshot of 5, which lists a
    await send(event({ type: "io.berth.container.stopped", timeNano: 7n, container: { id: ID("a"), name: "svc-a" } }));
    await snapshot(10n, [ID("c")]);
    assert.equal(bucket.entries.has(`node3.${ID("a")}`), false, "the stopped state is pruned");
    await send(started("a", 1n)); // redelivered: the snapshot of 10 does not list a
    assert.deepEqual([...agent.services_.keys()], ["node3:svc-c:cccccccccccc:8080"]);
  });

  test("reconcile - a start newer than the node's last snapshot is judged by the snapshot's time alone", async () => {
    const { agent, bucket, send, snapshot } = setup();
    await snapshot(5n, []);
    const read: string[] = [];
    const get = bucket.get.bind(bucket);
    bucket.get = (key) => (read.push(key), get(key));
    await send(started("a", 6n));
    assert.equal(agent.services_.size, 1);
    assert.ok(read.includes("_snapshot-time.node3"), read.join(" "));
    assert.ok(!read.includes("node3"), `the snapshot itself (every container of the node) is not read: ${read.join(" ")}`);
  });

  test("reconcile - a snapshot the agent could not take: recorded, its repair requested; the same snapshot again is reconciled again", async () => {
    const { agent, send, bucket } = setup();
    await send(started("a", 1n));
    const snap = toNodeSnapshot({ name: "node3", hostIp: "10.0.0.3" }, 5n, []);
    agent.failWith(new ConsulError("agent.services", 0, "connect ECONNREFUSED"));
    const first = message(subjectFor("berth", snap), bytesOf(snap));
    const { repairs, ...isolated } = isolation();
    await handleMessage(
      {
        prefix: "berth",
        ...isolated,
        bucket,
        agentFor: () => agent,
        deadLetter: () => Promise.reject(new assert.AssertionError({ message: "not dead-lettered" })),
        log: createLogger("handler", "silent"),
      },
      first.msg,
    );
    assert.deepEqual(first.settled, { acked: 1, naks: [] }, "the bucket's half is done: acked");
    assert.deepEqual(
      repairs,
      [{ node: "node3", reason: "agent unreachable: connect ECONNREFUSED" }],
      "the agent's half is left to a repair",
    );
    assert.equal(agent.services_.size, 1);
    agent.failWith(undefined);
    await send(snap);
    assert.equal(agent.services_.size, 0, "the redelivered snapshot removed the container that had stopped unseen");
  });

  test("reconcile - an older snapshot than the last one is ignored", async () => {
    const { agent, send, snapshot } = setup();
    await snapshot(10n, [ID("a")]);
    await send(started("a", 1n));
    agent.calls.length = 0;
    await snapshot(5n, []);
    assert.deepEqual(agent.calls, [], "an outdated snapshot does not even list the agent");
    assert.equal(agent.services_.size, 1);
  });

  test("reconcile - services berth owns but holds no state for are removed", async () => {
    const { agent, snapshot } = setup();
    agent.services_.set("orphan", { ID: "orphan", Name: "x", Meta: { berth_node: "node3", berth_container: ID("e") } });
    await snapshot(5n, []);
    assert.equal(agent.services_.has("orphan"), false);
  });

  test("apply - a redelivered or duplicate start PUTs nothing when the agent already holds it", async () => {
    const { send, writes } = setup();
    await send(started("a", 1n));
    await send(started("a", 1n));
    assert.deepEqual(writes(), ["register node3:svc-a:aaaaaaaaaaaa:8080"]);
  });

  test("apply - service IDs named like Object's own properties are services like any other", async () => {
    const { agent, send, snapshot, writes } = setup();
    const names = ["toString", "constructor", "__proto__", "hasOwnProperty"];
    const ids = names.map((_, i) => ID("abcd"[i]!));
    for (const [i, name] of names.entries())
      await send(event({ timeNano: 1n, container: { id: ids[i]!, name: `c${i}`, env: { SERVICE_ID: name } } }));
    assert.deepEqual([...agent.services_.keys()].sort(), [...names].sort());
    agent.calls.length = 0;
    for (const [i, name] of names.entries())
      await send(event({ timeNano: 1n, container: { id: ids[i]!, name: `c${i}`, env: { SERVICE_ID: name } } }));
    await snapshot(5n, ids);
    assert.deepEqual(writes(), [], "redeliveries and a snapshot find them current");
    agent.services_.delete("__proto__");
    agent.services_.set("__proto__", { ID: "__proto__", Name: "x", Meta: { berth_node: "node3", berth_container: ID("e") } });
    await snapshot(6n, ids.slice(0, 2));
    assert.deepEqual([...agent.services_.keys()].sort(), ["constructor", "toString"], "an orphan named __proto__ is stale like any other");
  });
});
