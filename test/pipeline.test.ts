// The handler's outcomes against a real nats-server and an agent double, without Docker
// (test/pipeline with no engine): events are published the way the emitter publishes them.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { publishDurable } from "../common/nats/index.ts";
import { bytesOf, event } from "./builders.ts";
import { cleanupAll } from "./harness/cleanup.ts";
import { waitFor } from "./harness/wait.ts";
import { startPipeline, type Pipeline } from "./pipeline/index.ts";

const PREFIX = "pipe";

describe("pipeline", () => {
  let p: Pipeline;

  before(async () => {
    p = await startPipeline({ prefix: PREFIX, nodes: [{ name: "node1" }], bus: true });
  });
  after(cleanupAll);

  const handler = () => p.handlers[0]!;

  test("pipeline - an invalid message is dead-lettered with its reasons and does not stop the worker", async (t) => {
    if (!p.ready(t)) return;
    await publishDurable(p.bus, `${PREFIX}.v1.node1.container.started`, bytesOf("{oops"), "bad-1");
    const bad = event({ node: "node1" }) as unknown as { data: { container: { env: Record<string, string> } } };
    bad.data.container.env = { DB_PASSWORD: "x" };
    await publishDurable(p.bus, `${PREFIX}.v1.node1.container.started`, bytesOf(bad), "bad-2");
    const found = await waitForLetters(2);
    assert.deepEqual(
      found.map((l) => [l.dlqSubject, l.reason, l.subject]),
      [0, 1].map(() => [`${PREFIX}.v1.dlq.schema`, "schema", `${PREFIX}.v1.node1.container.started`]),
    );
    assert.match(found[1]!.problems.join(), /\/data\/container\/env/);
    const good = event({ node: "node1", container: { name: "after-bad" } });
    await p.publish(good);
    const [service] = await p.applied(good); // registered as the mapping says, field by field
    assert.equal(service?.ID, `node1:after-bad:${good.subject.slice(0, 12)}:8080`);
  });

  test("pipeline - events of a node without an agent, or whose subject names another node, are dead-lettered", async (t) => {
    if (!p.ready(t)) return;
    const before = (await p.deadLetters()).length;
    await p.publish(event({ node: "node9" }));
    const forged = event({ node: "node1", container: { id: "f".repeat(64) } });
    await publishDurable(p.bus, `${PREFIX}.v1.node9.container.started`, bytesOf(forged), "forged-1");
    const found = (await waitForLetters(before + 2)).slice(before);
    assert.deepEqual(found.map((l) => l.reason).sort(), ["subject-mismatch", "unknown-node"]);
    assert.equal(Object.values(p.agent("node1").services()).filter((s) => s.Meta["berth_container"] === "f".repeat(64)).length, 0);
  });

  test("pipeline - while the agent is down events wait; when it returns they are applied", async (t) => {
    if (!p.ready(t)) return;
    await p.stopAgent("node1");
    const started = event({ node: "node1", container: { id: "c".repeat(64), name: "waits" }, timeNano: 10n });
    await p.publish(started);
    const deferred = await handler().waitForLog(
      (l) => l.msg === "deferred" && l["container"] === started.subject,
      "the event left to its node's repair",
    );
    assert.match(String(deferred["waiting_for"]), /^agent unreachable: /);
    await p.startAgent("node1");
    const [service] = await p.applied(started, 20_000); // applied after the agent returned, as the mapping says
    assert.equal(service?.ID, `node1:waits:${"c".repeat(12)}:8080`);
  });

  test("pipeline - a duplicate publish is dropped by JetStream", async (t) => {
    if (!p.ready(t)) return;
    const e = event({ node: "node1", container: { id: "d".repeat(64) } });
    assert.equal((await p.publish(e)).duplicate, false);
    assert.equal((await p.publish(e)).duplicate, true);
  });

  /** At least `count` dead letters, oldest first. */
  const waitForLetters = (count: number) =>
    waitFor(
      async () => {
        const l = await p.deadLetters(100);
        return l.length >= count && l;
      },
      { what: `${count} dead letters` },
    );
});
