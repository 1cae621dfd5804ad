// The per-node gate (P7): a node whose agent failed, or whose calls pile up unanswered, is not
// called for a moment; other nodes are never affected.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RETRY_AFTER_MS, SLOW_AFTER_MS, SLOW_CALLS, nodeGate } from "../handler/node-gate.ts";

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe("node gate", () => {
  test("node gate - a failure blocks that node for RETRY_AFTER_MS, then one call may try again; other nodes stay open", () => {
    const c = clock();
    const gate = nodeGate(c.now);
    gate.failed("node1", "agent unreachable: ECONNREFUSED");
    assert.equal(gate.blocked("node1"), "agent unreachable: ECONNREFUSED");
    assert.equal(gate.retryIn("node1"), RETRY_AFTER_MS);
    assert.equal(gate.blocked("node2"), undefined);
    c.advance(RETRY_AFTER_MS);
    assert.equal(gate.blocked("node1"), undefined, "half open: the next call tries the agent");
    assert.deepEqual(gate.trouble("node1"), { since: 1_000_000, reason: "agent unreachable: ECONNREFUSED" });
    c.advance(10);
    gate.failed("node1", "agent answered 503: no leader");
    assert.equal(gate.trouble("node1")?.since, 1_000_000, "the trouble keeps its start while it lasts");
    gate.succeeded("node1");
    assert.equal(gate.blocked("node1"), undefined);
    assert.equal(gate.trouble("node1"), undefined);
  });

  test("node gate - a node is busy only when SLOW_CALLS calls are in flight and the oldest has waited SLOW_AFTER_MS", () => {
    const c = clock();
    const gate = nodeGate(c.now);
    const leave = Array.from({ length: SLOW_CALLS }, () => gate.enter("node1"));
    assert.equal(gate.busy("node1"), undefined, "many calls, all fresh: a fast agent under load is not slow");
    c.advance(SLOW_AFTER_MS);
    assert.match(gate.busy("node1") ?? "", new RegExp(`^agent slow: ${SLOW_CALLS} calls in flight, the oldest for ${SLOW_AFTER_MS} ms`));
    assert.equal(gate.busy("node2"), undefined);
    leave[0]!();
    assert.equal(gate.busy("node1"), undefined, "one call answered: below SLOW_CALLS again");
    for (const l of leave.slice(1)) l();
    const again = Array.from({ length: SLOW_CALLS }, () => gate.enter("node1"));
    assert.equal(gate.busy("node1"), undefined, "calls entered in the same millisecond are each counted, and fresh");
    for (const l of again) l();
  });
});
