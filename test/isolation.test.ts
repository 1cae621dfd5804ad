// P7 with real parts: no node's trouble delays another's registrations. node1's agent is down
// while more than 20,000 of node1's events arrive; node3's agent answers in 2 s; node2 (a private
// dockerd with its emitter) goes on as if neither existed, and each troubled node converges from the
// state bucket once its agent answers — node1 within 5 s, without waiting for a snapshot.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { connectBus, consumerLag, ensureJetStream, publishDurable, type Bus } from "../common/nats/index.ts";
import { jetstreamManager } from "../common/nats/sdk.ts";
import { streamNames, subjectFor, type ContainerEvent } from "../schemas/index.ts";
import { startBerth, type BerthProcess } from "./berth-process.ts";
import { bytesOf, event } from "./builders.ts";
import { startConsulDouble, type ConsulDouble } from "./consul-double/index.ts";
import { startDelayedAgent } from "./delayed-agent.ts";
import { cleanupAll, registerCleanup } from "./harness/cleanup.ts";
import { docker } from "./harness/docker-cli.ts";
import { canStartDockerd, startDockerd, type PrivateDockerEngine } from "./harness/dockerd.ts";
import { TEST_IMAGE, ensureTestImage } from "./harness/image.ts";
import { canStartNatsServer, startNatsServer } from "./harness/nats.ts";
import { freePort } from "./harness/ports.ts";
import { requireOrSkip } from "./harness/prereq.ts";
import { waitFor } from "./harness/wait.ts";

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

describe("isolation", () => {
  let bus: Bus;
  let node2: PrivateDockerEngine;
  let agent1: ConsulDouble;
  let agent2: ConsulDouble;
  let agent3: ConsulDouble;
  let agent1Port: number;
  const handlers: BerthProcess[] = [];
  let ready = false;

  before(async () => {
    if (!canStartDockerd() || !canStartNatsServer()) return;
    const nats = await startNatsServer();
    bus = await connectBus({ NATS_URL: nats.url, BERTH_PREFIX: PREFIX }, "isolation-test");
    registerCleanup("isolation bus", () => bus.drain());
    await ensureJetStream(bus);
    agent1Port = await freePort();
    agent1 = await startConsulDouble({ node: "node1", port: agent1Port });
    agent2 = await startConsulDouble({ node: "node2", address: "127.0.0.52" });
    agent3 = await startConsulDouble({ node: "node3" });
    for (const a of [agent2, agent3]) registerCleanup(`${a.node} agent double`, () => a.close());
    const slow3 = await startDelayedAgent(agent3.url, 2_000);
    const agents = `node1=http://127.0.0.1:${agent1Port},node2=${agent2.url},node3=${slow3.url}`;
    const env = { NATS_URL: nats.url, BERTH_PREFIX: PREFIX };
    for (let i = 0; i < 2; i++) {
      const h = await startBerth("handler", { ...env, BERTH_CONSUL_AGENTS: agents });
      await h.waitForLog((l) => l.msg === "started", "handler started");
      handlers.push(h);
    }
    node2 = await startDockerd({ name: "iso2", ip: "127.0.0.52" });
    await ensureTestImage(node2);
    const emitter = await startBerth("emitter", {
      ...env,
      DOCKER_HOST: node2.host,
      BERTH_NODE: "node2",
      BERTH_HOST_IP: "127.0.0.52",
      BERTH_RESYNC_SECONDS: "0",
    });
    await emitter.waitForLog((l) => l.msg === "watching docker", "node2's emitter watching");
    ready = true;
  });
  after(cleanupAll);
  const prereq = (t: import("node:test").TestContext) => requireOrSkip(t, "root, dockerd and nats-server", ready);

  const publishAll = async (events: ContainerEvent[]) => {
    let next = 0;
    const one = async () => {
      for (let i = next++; i < events.length; i = next++)
        await publishDurable(bus, subjectFor(PREFIX, events[i]!), bytesOf(events[i]), events[i]!.id);
    };
    await Promise.all(Array.from({ length: 128 }, one));
  };
  const owned = (agent: ConsulDouble) => new Set(Object.values(agent.services()).map((s) => s.Meta["berth_container"]));
  /** node2: a container started is registered, and removed once killed; resolves with how long each took. */
  const node2Round = async () => {
    const began = Date.now();
    const id = await docker(node2, "run", "-d", "--pull=never", "-p", "8080", "-e", "SERVICE_NAME=steady", TEST_IMAGE);
    await waitFor(() => owned(agent2).has(id), { what: "node2's container registered", timeoutMs: 5_000 });
    const registered = Date.now() - began;
    const killed = Date.now();
    await docker(node2, "kill", id);
    await waitFor(() => !owned(agent2).has(id), { what: "node2's killed container removed", timeoutMs: 5_000 });
    return { registered, removed: Date.now() - killed };
  };
  const jsm = () => jetstreamManager(bus.nc);

  test("isolation - node1's agent down with 20,000+ of its events waiting: node2 unaffected; node1 converges within 5 s of its agent's return, nothing lost", async (t) => {
    if (!prereq(t)) return;
    const baseline = await node2Round();
    await agent1.close();
    const node1 = history("node1", "a", 1_000, 21);
    assert.ok(node1.events.length > 20_000);
    await publishAll(node1.events);
    // Every event is taken, recorded and acked: none waits in the stream or holds a handler's slot.
    await waitFor(
      async () => {
        const lag = await consumerLag(bus);
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
    assert.equal(owned(agent1).size, 0);

    const back = Date.now();
    agent1 = await startConsulDouble({ node: "node1", port: agent1Port });
    const returned = agent1;
    registerCleanup("node1 agent double (back)", () => returned.close());
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
    for (const service of Object.values(agent1.services())) {
      const i = node1.events.find((e) => e.subject === service.Meta["berth_container"])!.data.container.name;
      assert.equal(service.Service, i, "each service as the latest state maps it");
    }
    await waitFor(async () => (await (await jsm()).streams.info(names.repairs)).state.messages === 0, {
      what: "node1's repair request done",
    });
  });

  test("isolation - node3's agent answering in 2 s: node2 unaffected; node3 catches up", async (t) => {
    if (!prereq(t)) return;
    // A steady stream, as a busy host sends it (one event every 10 ms): the calls pile up on the
    // slow agent until the gate sees it, after which the rest wait for node3's repair.
    const node3 = history("node3", "c", 40, 3);
    for (const e of node3.events) {
      await publishDurable(bus, subjectFor(PREFIX, e), bytesOf(e), e.id);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const slow = () =>
      handlers.flatMap((h) =>
        h.logs.filter((l) => l.msg === "deferred" && l["node"] === "node3" && /^agent slow: /.test(String(l["waiting_for"]))),
      );
    await waitFor(() => slow().length > 0, { what: "node3's changes beyond its calls in flight left to its repair" });
    const during = await node2Round();
    t.diagnostic(`node2 while node3's agent takes 2 s a call: registered ${during.registered} ms, removed ${during.removed} ms`);
    await waitFor(
      () => {
        const have = owned(agent3);
        return have.size === node3.running.size && [...node3.running].every((id) => have.has(id));
      },
      { what: "node3's agent holding exactly its running containers", timeoutMs: 90_000, intervalMs: 200 },
    );
  });
});
