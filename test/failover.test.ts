// Issue 21, failover in seconds (real nats-server, handler processes, agent doubles): the events a
// frozen (SIGSTOP: it keeps its connection, NATS goes on delivering to it) or killed handler took are
// applied by another within 5 s of their publish — the ack wait is short (BERTH_ACK_WAIT_SECONDS=4) —
// while a live handler's slow work (an agent answering in 2 s) stays its own: it says it is still
// working (in-progress acks), so nothing is taken from it and applied twice.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { jetstreamManager } from "../common/nats/sdk.ts";
import { streamNames, type ContainerEvent } from "../schemas/index.ts";
import type { BerthProcess } from "./berth-process.ts";
import { event, publish } from "./builders.ts";
import { cleanupAll } from "./harness/cleanup.ts";
import { waitFor } from "./harness/wait.ts";
import { startPipeline, type Pipeline } from "./pipeline/index.ts";

const PREFIX = "fo";
/** The bound this issue sets, from an event's publish to its application by another handler. */
const APPLIED_WITHIN_MS = 5_000;

/** `count` starts of distinct containers of `node`, each publishing `ports` ports (a service each, registered one after the other). */
function starts(node: string, tag: string, count: number, ports = 1): ContainerEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const name = `${tag}-${i}`;
    const id = `${tag}${i.toString(16).padStart(8, "0")}`.padEnd(64, "0");
    const bindings = Array.from({ length: ports }, (_, k) => `${8100 + k}:${80 + k}`);
    return event({ node, container: { id, name, env: { SERVICE_NAME: name }, ports: publish(...bindings) } });
  });
}

describe("failover", () => {
  let p: Pipeline;
  const names = streamNames(PREFIX);

  before(async () => {
    p = await startPipeline({
      prefix: PREFIX,
      nodes: [{ name: "fo1" }, { name: "fo2", agent: { delayMs: 2_000 } }],
      handlers: 1,
      bus: true,
    });
  });
  after(cleanupAll);

  const consumer = async () => (await jetstreamManager(p.bus.nc)).consumers.info(names.events, names.consumer);
  const publishAll = async (events: ContainerEvent[]) => {
    for (const e of events) await p.publish(e);
    return Date.now();
  };
  /** Each event applied by the deadline (a wait's timeout, not a timed assert). */
  const appliedBy = async (events: ContainerEvent[], deadline: number) => {
    for (const e of events) await p.applied(e, Math.max(1, deadline - Date.now()));
  };

  /** The only handler, frozen, takes `events` as they are published: they are in flight there. */
  const freezeAndPublish = async (events: ContainerEvent[]): Promise<{ held: BerthProcess; publishedAt: number }> => {
    assert.equal(p.handlers.length, 1);
    const held = p.handlers[0]!;
    process.kill(held.pid, "SIGSTOP");
    const publishedAt = await publishAll(events);
    const pending = await waitFor(async () => (await consumer()).num_ack_pending, { what: "events delivered to the frozen handler" });
    assert.ok(pending > 0);
    return { held, publishedAt };
  };

  test("failover - a frozen handler's events (SIGSTOP) are applied by another handler within 5 s of their publish", async (t) => {
    if (!p.ready(t)) return;
    const events = starts("fo1", "aa", 10);
    const { held, publishedAt } = await freezeAndPublish(events);
    try {
      await p.startHandler();
      await appliedBy(events, publishedAt + APPLIED_WITHIN_MS);
      t.diagnostic(`all ${events.length} applied ${((Date.now() - publishedAt) / 1000).toFixed(1)} s after their publish`);
    } finally {
      process.kill(held.pid, "SIGCONT");
      await p.killHandler(held);
    }
  });

  test("failover - a killed handler's events in flight are applied by another handler within 5 s of their publish", async (t) => {
    if (!p.ready(t)) return;
    const events = starts("fo1", "bb", 10);
    const { held, publishedAt } = await freezeAndPublish(events);
    await p.killHandler(held); // SIGKILL of the handler holding them
    await p.startHandler();
    await appliedBy(events, publishedAt + APPLIED_WITHIN_MS);
    t.diagnostic(`all ${events.length} applied ${((Date.now() - publishedAt) / 1000).toFixed(1)} s after their publish`);
  });

  test("failover - handlers working longer than the ack wait against an agent answering in 2 s keep their messages: each event applied once", async (t) => {
    if (!p.ready(t)) return;
    while (p.handlers.length < 2) await p.startHandler();
    const events = starts("fo2", "cc", 4, 3); // three registrations of 2 s each: 6 s of work, the ack wait is 4 s
    const publishedAt = await publishAll(events);
    for (const e of events) await p.applied(e, 30_000);
    await waitFor(
      async () => {
        const info = await consumer();
        return info.num_pending === 0 && info.num_ack_pending === 0;
      },
      { what: "every message settled", timeoutMs: 30_000 },
    );
    const applied = p.handlers.flatMap((h) => h.logs).filter((l) => l.msg === "applied" && l.node === "fo2");
    const took = Math.min(...applied.map((l) => Number(l.time) - publishedAt));
    t.diagnostic(
      `${applied.length} applications of ${events.length} events, each ≥ ${took} ms after its publish (the agent answers each call in 2 s)`,
    );
    for (const e of events)
      assert.equal(applied.filter((l) => l.container === e.subject).length, 1, `${e.data.container.name} applied once`);
    const registers = p.agent("fo2").requests.filter((r) => r.method === "PUT" && r.path.startsWith("/v1/agent/service/register"));
    assert.equal(registers.length, events.length * 3, "each service registered once");
  });
});
