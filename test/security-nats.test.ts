// NATS authentication and authorisation with examples/nats-server.conf on a real nats-server:
// each emitter may publish only its own node's subjects, handlers consume, refusals are reported
// (never swallowed, never a silent wait), wrong credentials and untrusted certificates stop the
// process with the reason, and TLS works with NATS_CA (+ NATS_CERT/NATS_KEY).
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
import { makeTestPki, opensslBinary, type TestPki } from "./harness/tls.ts";
import { waitFor } from "./harness/wait.ts";
import { startPipeline, type Pipeline } from "./pipeline/index.ts";

const EXAMPLE = new URL("../examples/nats-server.conf", import.meta.url);
const PREFIX = "berth"; // the example is written for the default prefix
const HOST_IP = "127.0.0.21";

/** Fresh passwords for this run, given to nats-server through its environment as the example expects. */
const PASSWORDS = { node1: secret(), node2: secret(), handler: secret() };
function secret(): string {
  return randomBytes(12).toString("hex");
}
// nats-server reads a variable's value as configuration: quoted, as the example says, so a password
// such as `7e21…` is not taken for a number.
process.env.BERTH_NODE1_PASSWORD = `"${PASSWORDS.node1}"`;
process.env.BERTH_NODE2_PASSWORD = `"${PASSWORDS.node2}"`;
process.env.BERTH_HANDLER_PASSWORD = `"${PASSWORDS.handler}"`;

/** The example as written, minus its store_dir (the harness gives each server its own with -sd), plus `extra`. */
function exampleConfig(extra = ""): string {
  const text = readFileSync(EXAMPLE, "utf8");
  const withoutStore = text.replace(/^\s*store_dir:.*$/m, "");
  assert.notEqual(withoutStore, text, "examples/nats-server.conf sets store_dir");
  return `${withoutStore}\n${extra}`;
}

/** The lines nats-server logged about refused publishes and subscriptions. */
function violations(nats: NatsServer): string[] {
  return readFileSync(nats.logFile, "utf8")
    .split("\n")
    .filter((l) => /Violation/.test(l));
}

/** The exit of a process that must stop by itself: a deadline, so a silent wait fails the test. */
const exitOf = (proc: BerthProcess) => waitFor(() => proc.exited, { what: "the process to exit by itself", timeoutMs: 15_000 });

const as = (user: keyof typeof PASSWORDS) => ({ NATS_USER: user, NATS_PASSWORD: PASSWORDS[user] });

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

describe("security: NATS over TLS (the example plus a tls block that verifies client certificates)", () => {
  let p: Pipeline;
  let pki: TestPki;

  before(async () => {
    const openssl = opensslBinary() !== undefined;
    if (openssl) pki = await makeTestPki();
    const tls = openssl
      ? `tls {\n  cert_file: "${pki.serverCertFile}"\n  key_file: "${pki.serverKeyFile}"\n  ca_file: "${pki.caFile}"\n  verify: true\n}\n`
      : "";
    p = await startPipeline({
      prefix: PREFIX,
      nats: { config: exampleConfig(tls) },
      nodes: [{ name: "node1" }],
      handlers: 0,
      requires: { openssl },
    });
  });
  after(cleanupAll);

  const start = (tls: Record<string, string>) => p.spawn("handler", { ...as("handler"), BERTH_CONSUL_AGENTS: p.agentsEnv(), ...tls });

  test("security-nats - TLS: with NATS_CA (and a client certificate) the handler connects and works", async (t) => {
    if (!p.ready(t)) return;
    const handler = await start({ NATS_CA: pki.caFile, NATS_CERT: pki.clientCertFile, NATS_KEY: pki.clientKeyFile });
    await handler.waitForLog((l) => l.msg === "started", "handler started over TLS");
    const tlsClient = { NATS_CA: pki.caFile, NATS_CERT: pki.clientCertFile, NATS_KEY: pki.clientKeyFile };
    const b = await p.connect("berth-emitter-node1", { ...as("node1"), ...tlsClient });
    const e = event({ node: "node1", container: { id: randomBytes(32).toString("hex") } });
    await publishDurable(b, subjectFor(PREFIX, e), bytesOf(e), e.id);
    const [service] = await p.applied(e); // applied over TLS, as the mapping gives it
    assert.equal(service?.Meta["berth_container"], e.subject);
    await handler.stop();
  });

  test("security-nats - TLS: without NATS_CA, or with the wrong CA, the process stops at once saying so (no silent retrying)", async (t) => {
    if (!p.ready(t)) return;
    const client = { NATS_CERT: pki.clientCertFile, NATS_KEY: pki.clientKeyFile };
    for (const [tls, hint] of [
      [client, /set NATS_CA to the CA certificate that signed it/],
      [{ ...client, NATS_CA: pki.otherCaFile }, /NATS_CA \(.*other-ca\.pem\) does not hold the CA that signed it/],
    ] as const) {
      const handler = await start(tls);
      const exit = await exitOf(handler);
      const stderr = handler.stderr.join("\n");
      assert.equal(exit.code, 2, stderr);
      assert.match(stderr, /NATS server's TLS certificate was not accepted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
      assert.match(stderr, hint);
    }
  });
});
