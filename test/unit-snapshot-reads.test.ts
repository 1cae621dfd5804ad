// Which states a snapshot reads: all of the node's at its first snapshot and its first of each
// window (and on a redelivery), otherwise those of the containers it and the previous snapshot
// list — without losing what the full read would find for them.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FULL_READ_EVERY_MS } from "../handler/snapshot.ts";
import { ID, setup, started } from "./unit-reconcile-fixture.ts";

const WINDOW_NS = BigInt(FULL_READ_EVERY_MS) * 1_000_000n;

/** The setup, with the node's full reads (entriesMatching) counted. */
function counted() {
  const s = setup();
  const matching = s.bucket.entriesMatching.bind(s.bucket);
  let fullReads = 0;
  s.bucket.entriesMatching = (filter: string) => {
    fullReads++;
    return matching(filter);
  };
  return { ...s, fullReads: () => fullReads };
}

describe("snapshot reads", () => {
  test("snapshot reads - the first snapshot reads every state of the node, the next ones in its window only those listed now or before", async () => {
    const { send, snapshot, fullReads } = counted();
    await send(started("a", 1n));
    await snapshot(10n, [ID("a")]);
    assert.equal(fullReads(), 1, "a node's first snapshot");
    await snapshot(20n, [ID("a")]);
    await snapshot(30n, [ID("a")]);
    assert.equal(fullReads(), 1, "the same window: the listed containers' keys only");
    await snapshot(30n + WINDOW_NS, [ID("a")]);
    assert.equal(fullReads(), 2, "the next window's first snapshot");
    await snapshot(40n + WINDOW_NS, [ID("a")]);
    assert.equal(fullReads(), 2);
  });

  test("snapshot reads - the same snapshot again (a redelivery after a failure part-way) reads every state", async () => {
    const { snapshot, fullReads } = counted();
    await snapshot(10n, []);
    await snapshot(20n, []);
    assert.equal(fullReads(), 1);
    await snapshot(20n, []);
    assert.equal(fullReads(), 2);
  });

  test("snapshot reads - a container the previous snapshot listed and this one does not is stopped and deregistered without a full read; the next full read prunes it", async () => {
    const { agent, bucket, send, snapshot, fullReads } = counted();
    await send(started("a", 1n));
    await send(started("b", 2n));
    await snapshot(10n, [ID("a"), ID("b")]);
    assert.equal(agent.services_.size, 2);
    // b's die never reached berth: only the snapshots say it is gone.
    await snapshot(20n, [ID("a")]);
    assert.equal(fullReads(), 1, "no full read for it (the first snapshot's only)");
    assert.equal(agent.services_.size, 1, "b's service is removed");
    const b = bucket.entries.get(`node3.${ID("b")}`);
    assert.ok(b, "b's state is stopped, kept until a snapshot that reads it prunes behind it");
    assert.match(new TextDecoder().decode(b.value), /io\.berth\.container\.stopped/);
    await snapshot(20n + WINDOW_NS, [ID("a")]);
    assert.equal(bucket.entries.has(`node3.${ID("b")}`), false, "pruned by the next window's full read");
    assert.equal(agent.services_.size, 1);
  });

  test("snapshot reads - a container started after the previous snapshot and gone unseen (its die lost while the emitter was away) is removed by the next snapshot, without a full read", async () => {
    const { agent, snapshot, send, fullReads } = counted();
    await snapshot(10n, []);
    await send(started("c", 15n));
    assert.equal(agent.services_.size, 1);
    // Neither snapshot lists c: the repair reads the states of the containers the agent holds.
    await snapshot(20n, []);
    assert.equal(fullReads(), 1, "the first snapshot's only");
    assert.equal(agent.services_.size, 0);
    await send(started("c", 15n));
    assert.equal(agent.services_.size, 0, "an old start redelivered does not bring it back");
  });

  test("snapshot reads - a state believed running that neither snapshot lists nor the agent holds waits for the next window's full read", async () => {
    const { agent, bucket, snapshot, send } = counted();
    await snapshot(10n, []);
    await send(started("d", 15n));
    agent.services_.clear(); // the agent lost it too
    const state = () => new TextDecoder().decode(bucket.entries.get(`node3.${ID("d")}`)?.value);
    await snapshot(20n, []);
    assert.match(state(), /io\.berth\.container\.started/, "not seen by this snapshot's reads (FULL_READ_EVERY_MS at most)");
    await snapshot(20n + WINDOW_NS, []);
    assert.match(state(), /io\.berth\.container\.stopped/, "the next window's full read stops it");
    assert.equal(agent.services_.size, 0);
  });
});
