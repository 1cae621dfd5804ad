// Issue 21: a handler told to stop (SIGTERM: an upgrade, a scale-down) hands back at once what it
// took and has not begun, so another handler applies it at once — not after the ack wait (30 s here,
// so that nothing else could explain it), and not after the stopping handler's slow work. What it is
// applying it finishes, once.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { jetstreamManager } from "../common/nats/sdk.ts";
import { streamNames } from "../schemas/index.ts";
import { event, publish } from "./builders.ts";
import { cleanupAll } from "./harness/cleanup.ts";
import { waitFor } from "./harness/wait.ts";
import { startPipeline, type Pipeline } from "./pipeline/index.ts";

const PREFIX = "hb";

describe("hand-back", () => {
  let p: Pipeline;

  before(async () => {
    p = await startPipeline({
      prefix: PREFIX,
      nodes: [{ name: "hb1" }, { name: "hb2", agent: { delayMs: 2_000 } }],
      handlers: 0,
      bus: true,
      env: { BERTH_ACK_WAIT_SECONDS: "30" },
    });
  });
  after(cleanupAll);

  test("hand-back - a handler stopped (SIGTERM) hands back what it has not begun: another applies it at once; what it was applying it finishes", async (t) => {
    if (!p.ready(t)) return;
    const names = streamNames(PREFIX);
    const slow = event({
      node: "hb2",
      container: { id: "5".repeat(64), name: "slow", env: { SERVICE_NAME: "slow" }, ports: publish("8101:80", "8102:81", "8103:82") },
    });
    const queued = event({ node: "hb1", container: { id: "6".repeat(64), name: "queued", env: { SERVICE_NAME: "queued" } } });
    // One message at a time: it takes two (a pull asks for twice its concurrency), applies the slow
    // one (three registrations with an agent answering in 2 s) and holds the other, not begun.
    const stopping = await p.startHandler({ BERTH_HANDLER_CONCURRENCY: "1" });
    await p.publish(slow);
    await p.publish(queued);
    const jsm = await jetstreamManager(p.bus.nc);
    await waitFor(async () => (await jsm.consumers.info(names.events, names.consumer)).num_ack_pending === 2, {
      what: "both messages held by the handler",
    });
    const other = await p.startHandler();
    const stopped = stopping.stop(); // SIGTERM: it drains
    await p.applied(queued, 3_000); // at once: long before the ack wait (30 s) or the slow work's end (~6 s)
    await stopped;
    await p.applied(slow, 1_000);
    const applied = (name: string) => [stopping, other].flatMap((h) => h.logs).filter((l) => l.msg === "applied" && l.container === name);
    assert.equal(applied(slow.subject).length, 1, "the slow one applied once");
    assert.equal(stopping.logs.filter((l) => l.msg === "applied" && l.container === slow.subject).length, 1, "by the stopping handler");
    assert.equal(applied(queued.subject).length, 1, "the queued one applied once");
  });
});
