// NATS authentication and authorisation with examples/nats-server.conf on a real nats-server (its
// users and passwords: test/security-nats-fixture.ts): only handlers may create the streams, each
// emitter may publish only its own node's subjects, handlers consume, refusals are reported (never
// swallowed, never a silent wait), and wrong credentials stop the process with the reason.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { after, before, describe, test, type TestContext } from "node:test";
import { createLogger } from "../common/log.ts";
import { NatsPermissionError, openStateBucket, publishDurable, type Bus } from "../common/nats/index.ts";
import { eventPublisher } from "../emitter/publish.ts";
import { subjectFor } from "../schemas/index.ts";
import type { BerthProcess } from "./berth-process.ts";
import { bytesOf, event } from "./builders.ts";
import { cleanupAll } from "./harness/cleanup.ts";
import { canStartDockerd, missingForDockerd } from "./harness/dockerd.ts";
import type { NatsServer } from "./harness/nats.ts";
import { requireOrSkip } from "./harness/prereq.ts";
import { waitFor } from "./harness/wait.ts";
import { startPipeline, type Pipeline } from "./pipeline/index.ts";
import { PASSWORDS, PREFIX, as, exampleConfig, exitOf, secret } from "./security-nats-fixture.ts";

const HOST_IP = "127.0.0.21";

/** The lines nats-server logged about refused publishes and subscriptions. */
function violations(nats: NatsServer): string[] {
  return readFileSync(nats.logFile, "utf8")
    .split("\n")
    .filter((l) => /Violation/.test(l));
}

describe("security: NATS users of examples/nats-server.conf", () => {
  let p: Pipeline;
  let handler: BerthProcess | undefined;

  /** A connection as `user`, named `name` (the example's permissions go by the inbox prefix of the name). */
  const bus = (user: keyof typeof PASSWORDS, name: string): Promise<Bus> => p.connect(name, as(user));
  const startHandler = async () => {
    handler = await p.startHandler(as("handler"));
  };

  before(async () => {
    // No handler yet: the first test starts an emitter before any stream exists. node1's engine: only when a test needs Docker.
    p = await startPipeline({
      prefix: PREFIX,
      nats: { config: exampleConfig() },
      nodes: [
        { name: "node1", ip: HOST_IP },
        { name: "node2", ip: HOST_IP },
      ],
      handlers: 0,
    });
  });
  after(cleanupAll);

  const prerequisites = (t: TestContext) => p.ready(t);
  const withDocker = (t: TestContext) =>
    prerequisites(t) && requireOrSkip(t, `root and dockerd (missing: ${missingForDockerd().join(", ")})`, canStartDockerd());

  test("security-nats - only handlers may create the streams: an emitter started first exits naming the refused API subject", async (t) => {
    if (!prerequisites(t)) return;
    // No Docker is needed: the emitter sets up JetStream before it reads Docker.
    const env = { ...as("node1"), BERTH_NODE: "node1", DOCKER_HOST: "unix:///nonexistent/docker.sock" };
    const early = await p.spawn("emitter", env);
    const exit = await exitOf(early);
    assert.equal(exit.code, 1);
    const stderr = early.stderr.join("\n");
    assert.match(
      stderr,
      /NatsPermissionError: NATS refused this connection permission to publish to "\$JS\.API\.STREAM\.CREATE\.BERTH_EVENTS"/,
    );
    assert.ok(!stderr.includes(PASSWORDS.node1), "the password is not printed");

    await startHandler(); // the handler's user may create the streams, the consumer and the bucket
    const later = await p.spawn("emitter", env);
    await later.waitForLog((l) => l.msg === "started", "emitter started once the streams exist");
    await later.stop();
  });

  test("security-nats - node1's emitter publishes its own events and the handler applies them end to end", async (t) => {
    if (!withDocker(t)) return;
    if (!handler) await startHandler();
    await p.startEngine("node1");
    const emitter = await p.startEmitter("node1", as("node1"));
    const id = await p.run("node1", "-e", "SERVICE_NAME=secure-web");
    const service = await waitFor(() => Object.values(p.agent("node1").services()).find((s) => s.Meta["berth_container"] === id), {
      what: "node1's container registered in node1's agent",
    });
    assert.equal(service.Service, "secure-web");
    assert.equal(service.Address, HOST_IP);
    await p.converged(["node1"]); // as the mapping gives it, field by field, answered there by the container
    assert.deepEqual(Object.keys(p.agent("node2").services()), [], "nothing reaches node2's agent");
    await emitter.stop();
  });

  test("security-nats - an emitter with node1's credentials that says it is node2 is stopped at start, saying which permission it lacks", async (t) => {
    if (!prerequisites(t)) return;
    if (!handler) await startHandler();
    // Replies to berth-emitter-node2 come to _INBOX.berth-emitter-node2.…, which only node2 may read.
    const forger = await p.spawn("emitter", { ...as("node1"), BERTH_NODE: "node2", DOCKER_HOST: "unix:///nonexistent/docker.sock" });
    const exit = await exitOf(forger);
    const stderr = forger.stderr.join("\n");
    assert.equal(exit.code, 1, stderr);
    assert.match(
      stderr,
      /NatsPermissionError: NATS refused this connection permission to subscribe to its inbox "_INBOX\.berth-emitter-node2\./,
    );
    assert.ok(!forger.logs.some((l) => l.msg === "published"), "nothing was published");
    assert.ok(
      violations(p.nats!).some((l) => /Subscription Violation - User "node1", Subject "_INBOX\.berth-emitter-node2\./.test(l)),
      "nats-server refused it",
    );
  });

  test("security-nats - through common/nats.ts each emitter user publishes its own node's subjects only; the emitter's publisher logs the refusal", async (t) => {
    if (!prerequisites(t)) return;
    if (!handler) await startHandler();
    for (const [own, other] of [
      ["node1", "node2"],
      ["node2", "node1"],
    ] as const) {
      const b = await bus(own, `berth-emitter-${own}`);
      const mine = event({ node: own, container: { id: randomBytes(32).toString("hex") } });
      assert.equal((await publishDurable(b, subjectFor(PREFIX, mine), bytesOf(mine), mine.id)).duplicate, false);
      const forged = event({ node: other, container: { id: randomBytes(32).toString("hex") } });
      const subject = subjectFor(PREFIX, forged);
      const err = await publishDurable(b, subject, bytesOf(forged), forged.id).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof NatsPermissionError, `${own} publishing ${subject}: ${String(err)}`);
      assert.equal(err.subject, subject);
      assert.match(err.message, /permission/);
    }

    // The emitter's own publish path (an emitter named node1 whose event names node2): the
    // refusal is a warn line naming the subject, then a retry until stopped.
    const lines: Record<string, unknown>[] = [];
    const log = createLogger("emitter", "info", {}, "json", { write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    const stop = new AbortController();
    const b = await bus("node1", "berth-emitter-node1");
    const forged = event({ node: "node2", container: { id: randomBytes(32).toString("hex") } });
    const publishing = eventPublisher(b, log, stop.signal)(forged);
    await waitFor(() => lines.some((l) => l["msg"] === "publish failed"), { what: "the publisher's warning" });
    stop.abort();
    await assert.rejects(publishing, NatsPermissionError, "once stopped, the publish fails with the refusal instead of pretending");
    const warned = lines.find((l) => l["msg"] === "publish failed")!;
    assert.equal(warned["container"], forged.subject);
    assert.match(String(warned["err"]), new RegExp(`permission to publish to "${subjectFor(PREFIX, forged).replaceAll(".", "\\.")}"`));
  });

  test("security-nats - the handler's user cannot publish events, and an emitter's cannot read events or the state bucket", async (t) => {
    if (!prerequisites(t)) return;
    if (!handler) await startHandler();
    const h = await bus("handler", "berth-handler");
    const e = event({ node: "node1", container: { id: randomBytes(32).toString("hex") } });
    await assert.rejects(publishDurable(h, subjectFor(PREFIX, e), bytesOf(e), e.id), NatsPermissionError);

    const n1 = await bus("node1", "berth-emitter-node1");
    const sub = n1.nc.subscribe(`${PREFIX}.v1.>`);
    assert.match(String(await sub.closed), /Permissions Violation for Subscription to "berth\.v1\.>"/);
    const bucket = await openStateBucket(n1);
    await assert.rejects(
      bucket.get("node1.x"),
      /Permissions Violation for Publish to "\$JS\.API\.(DIRECT|STREAM\.MSG)\.GET\.KV_BERTH_containers/,
    );
  });

  test("security-nats - a wrong password stops the process with exit code 2 and says what to check, without printing it", async (t) => {
    if (!prerequisites(t)) return;
    const wrong = `wrong-${secret()}`;
    const cases = [
      { kind: "handler" as const, env: { BERTH_CONSUL_AGENTS: p.agentsEnv(), NATS_USER: "handler" } },
      { kind: "emitter" as const, env: { BERTH_NODE: "node1", DOCKER_HOST: "unix:///nonexistent/docker.sock", NATS_USER: "node1" } },
    ];
    for (const { kind, env } of cases) {
      const proc = await p.spawn(kind, { ...env, NATS_PASSWORD: wrong });
      const exit = await exitOf(proc);
      const stderr = proc.stderr.join("\n");
      assert.equal(exit.code, 2, `${kind}: ${stderr}`);
      assert.match(
        stderr,
        new RegExp(
          `NATS refused the credentials \\(Authorization Violation\\) of user "${env.NATS_USER}": check NATS_USER and NATS_PASSWORD`,
        ),
      );
      assert.ok(!stderr.includes(wrong) && !proc.logs.some((l) => JSON.stringify(l).includes(wrong)), "the password is not printed");
    }
  });
});
