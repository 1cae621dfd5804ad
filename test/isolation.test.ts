// P7 with real parts: no node's trouble delays another's registrations. node1's agent is down
// while more than 20,000 of node1's events arrive; node3's agent answers in 2 s; node2 (a private
// dockerd with its emitter) goes on as if neither existed, and each troubled node converges from the
// state bucket once its agent answers — node1 within 5 s, without waiting for a snapshot.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { consumerLag } from "../common/nats/index.ts";
import { jetstreamManager } from "../common/nats/sdk.ts";
import { streamNames, type ContainerEvent } from "../schemas/index.ts";
import { event } from "./builders.ts";
import type { ConsulDouble } from "./consul-double/index.ts";
import { cleanupAll } from "./harness/cleanup.ts";
import { waitFor } from "./harness/wait.ts";
import { startPipeline, type Pipeline } from "./pipeline/index.ts";

const PREFIX = "iso";
/** A container ID whose first 12 characters (in event IDs, so in JetStream's duplicate check) are its own. */
const hex = (i: number, tag: string) => `${tag}${i.toString(16).padStart(11, "0")}`.padEnd(64, "0");

/** `count` containers of `node`, each with `events` events alternating start and stop from a start; odd ones end stopped. */
function history(node: string, tag: string, count: number, events: number): { events: ContainerEvent[]; running: Set<string> } {
  const all: ContainerEvent[] = [];
  const running = new Set<string>();
  for (let i = 0; i < count; i++) {
    const id = hex(i, tag);
    const container = { id, name: `${node}-c${i}`, env: { SERVICE_NAME: `${node}-c${i}` } };
    const last = i % 2 === 0 ? events : events + 1;
    for (let k = 1; k <= last; k++) {
      const type = k % 2 === 1 ? "io.berth.container.started" : "io.berth.container.stopped";
      all.push(
        event({
          type,
          node,
          timeNano: BigInt(k),
          container: type === "io.berth.container.started" ? container : { ...container, exitCode: 0 },
        }),
      );
    }
    if (last % 2 === 1) running.add(id);
  }
  return { events: all, running };
}

/** The latest event of each container of a history that ends running. */
const latest = (h: ReturnType<typeof history>) =>
  [...new Map(h.events.map((e) => [e.subject, e])).values()].filter((e) => h.running.has(e.subject));

describe("isolation", () => {
  let p: Pipeline;

  before(async () => {
    p = await startPipeline({
      prefix: PREFIX,
      nodes: [
        { name: "node1" },
        { name: "node2", ip: "127.0.0.52", engine: "docker" },
        { name: "node3", agent: { delayMs: 2_000 } }, // an agent answering in 2 s
      ],
      handlers: 2,
      resyncSeconds: 0,
      bus: true,
    });
  });
  after(cleanupAll);

  const publishAll = async (events: ContainerEvent[]) => {
    let next = 0;
    const one = async () => {
      for (let i = next++; i < events.length; i = next++) await p.publish(events[i]!);
    };
    await Promise.all(Array.from({ length: 128 }, one));
  };
  const owned = (agent: ConsulDouble) => new Set(Object.values(agent.services()).map((s) => s.Meta["berth_container"]));
  /** node2: a container started is registered as mapped, and removed once killed; resolves with how long each took. */
  const node2Round = async () => {
    const began = Date.now();
    const id = await p.run("node2", "-e", "SERVICE_NAME=steady");
    await waitFor(() => owned(p.agent("node2")).has(id), { what: "node2's container registered", timeoutMs: 5_000 });
    const registered = Date.now() - began;
    await p.converged(["node2"], 5_000);
    const killed = Date.now();
    await p.docker("node2", "kill", id);
    await waitFor(() => !owned(p.agent("node2")).has(id), { what: "node2's killed container removed", timeoutMs: 5_000 });
    return { registered, removed: Date.now() - killed };
  };
  const jsm = () => jetstreamManager(p.bus.nc);

  test("isolation - node1's agent down with 20,000+ of its events waiting: node2 unaffected; node1 converges within 5 s of its agent's return, nothing lost", async (t) => {
    if (!p.ready(t)) return;
    const baseline = await node2Round();
    await p.stopAgent("node1");
    const node1 = history("node1", "a", 1_000, 21);
    assert.ok(node1.events.length > 20_000);
    await publishAll(node1.events);
    // Every event is taken, recorded and acked: none waits in the stream or holds a handler's slot.
    await waitFor(
      async () => {
        const lag = await consumerLag(p.bus);
        return lag.pending + lag.ackPending === 0;
      },
      { what: "node1's events recorded and acked", timeoutMs: 120_000, intervalMs: 200 },
    );
    const names = streamNames(PREFIX);
    const [events, repairs] = await Promise.all([(await jsm()).streams.info(names.events), (await jsm()).streams.info(names.repairs)]);
    assert.equal(events.state.messages, 0, "the events stream keeps nothing for the node that waits");
    assert.equal(repairs.state.messages, 1, "one repair request stands for all of node1's waiting changes");
    const during = await node2Round();
    t.diagnostic(
      `node2 without the backlog: registered ${baseline.registered} ms, removed ${baseline.removed} ms; with it: ${during.registered} ms, ${during.removed} ms`,
    );
    assert.equal(owned(p.agent("node1")).size, 0);

    const back = Date.now();
    const agent1 = await p.startAgent("node1");
    await waitFor(
      () => {
        const have = owned(agent1);
        return have.size === node1.running.size && [...node1.running].every((id) => have.has(id));
      },
      { what: "node1's agent holding exactly its running containers", timeoutMs: 5_000, intervalMs: 50 },
    );
    t.diagnostic(
      `node1 converged ${Date.now() - back} ms after its agent returned (${node1.running.size} services from ${node1.events.length} events)`,
    );
    await p.holds("node1", latest(node1)); // each service as the latest state maps it, field by field
    await waitFor(async () => (await (await jsm()).streams.info(names.repairs)).state.messages === 0, {
      what: "node1's repair request done",
    });
  });

  test("isolation - node3's agent answering in 2 s: node2 unaffected; node3 catches up", async (t) => {
    if (!p.ready(t)) return;
    // A steady stream, as a busy host sends it (one event every 10 ms): the calls pile up on the
    // slow agent until the gate sees it, after which the rest wait for node3's repair.
    const node3 = history("node3", "c", 40, 3);
    for (const e of node3.events) {
      await p.publish(e);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const slow = () =>
      p.handlers.flatMap((h) =>
        h.logs.filter((l) => l.msg === "deferred" && l["node"] === "node3" && /^agent slow: /.test(String(l["waiting_for"]))),
      );
    await waitFor(() => slow().length > 0, { what: "node3's changes beyond its calls in flight left to its repair" });
    const during = await node2Round();
    t.diagnostic(`node2 while node3's agent takes 2 s a call: registered ${during.registered} ms, removed ${during.removed} ms`);
    await waitFor(
      () => {
        const have = owned(p.agent("node3"));
        return have.size === node3.running.size && [...node3.running].every((id) => have.has(id));
      },
      { what: "node3's agent holding exactly its running containers", timeoutMs: 90_000, intervalMs: 200 },
    );
    await p.holds("node3", latest(node3));
  });
});
