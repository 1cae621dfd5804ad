// The state bucket's contract on a real nats-server (the in-memory bucket of the unit tests,
// test/builders.ts, models it): compare-and-set on revisions, and a fresh create that a deletion's
// marker refuses — the start's shortcut past the snapshot guard depends on it (handler/latest.ts).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { connectBus, ensureJetStream, openStateBucket, type Bus, type StateBucket } from "../common/nats/index.ts";
import { cleanupAll, registerCleanup } from "./harness/cleanup.ts";
import { natsReady } from "./harness-fixture.ts";
import { canStartNatsServer, startNatsServer } from "./harness/nats.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array | undefined) => value && new TextDecoder().decode(value);

describe("state bucket", () => {
  let bucket: StateBucket | undefined;
  before(async () => {
    if (!canStartNatsServer()) return;
    const nats = await startNatsServer();
    const bus: Bus = await connectBus({ NATS_URL: nats.url, BERTH_PREFIX: "bucket" }, "state-bucket-test");
    registerCleanup("state bucket connection", () => bus.nc.close());
    await ensureJetStream(bus);
    bucket = await openStateBucket(bus);
  });
  after(cleanupAll);

  test("state bucket - a fresh create writes a key that never held anything, and only that", async (t) => {
    if (!natsReady(t) || !bucket) return;
    const revision = await bucket.createFresh("node1.a", bytes("first"));
    assert.ok(revision !== undefined && revision > 0);
    assert.equal(await bucket.createFresh("node1.a", bytes("again")), undefined, "the key holds a value");
    assert.equal(text((await bucket.get("node1.a"))?.value), "first");
    assert.equal(await bucket.compareAndSet("node1.a", bytes("stale"), revision - 1), undefined, "a write at an old revision");
    assert.ok((await bucket.compareAndSet("node1.a", bytes("second"), revision)) !== undefined);
  });

  test("state bucket - a deleted key keeps its marker: a fresh create is refused; a create at revision 0 writes over it", async (t) => {
    if (!natsReady(t) || !bucket) return;
    const revision = await bucket.createFresh("node1.b", bytes("running"));
    assert.ok(revision !== undefined);
    assert.equal(await bucket.deleteAt("node1.b", revision + 1), false, "not at the key's revision");
    assert.equal(await bucket.deleteAt("node1.b", revision), true);
    assert.equal(await bucket.get("node1.b"), undefined, "deleted: no entry");
    assert.equal(await bucket.createFresh("node1.b", bytes("late start")), undefined, "the deletion's marker refuses a fresh create");
    assert.ok((await bucket.compareAndSet("node1.b", bytes("started again"), 0)) !== undefined, "revision 0: absent, marker or not");
    assert.equal(text((await bucket.get("node1.b"))?.value), "started again");
  });
});
