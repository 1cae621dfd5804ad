// NATS authentication and authorisation with examples/nats-server.conf on a real nats-server:
// each emitter may publish only its own node's subjects, handlers consume, refusals are reported
// (never swallowed, never a silent wait), wrong credentials and untrusted certificates stop the
// process with the reason, and TLS works with NATS_CA (+ NATS_CERT/NATS_KEY).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { after, before, describe, test, type TestContext } from "node:test";
import { createLogger } from "../common/log.ts";
import { NatsPermissionError, connectBus, openStateBucket, publishDurable, type Bus } from "../common/nats/index.ts";
import { eventPublisher } from "../emitter/publish.ts";
import { subjectFor } from "../schemas/index.ts";
import { startBerth, type BerthProcess } from "./berth-process.ts";
import { bytesOf, event } from "./builders.ts";
import { startConsulDouble, type ConsulDouble } from "./consul-double/index.ts";
import { cleanupAll, registerCleanup } from "./harness/cleanup.ts";
import { docker } from "./harness/docker-cli.ts";
import { canStartDockerd, missingForDockerd, startDockerd, type PrivateDockerEngine } from "./harness/dockerd.ts";
import { TEST_IMAGE, ensureTestImage } from "./harness/image.ts";
import { canStartNatsServer, startNatsServer, type NatsServer } from "./harness/nats.ts";
import { requireOrSkip } from "./harness/prereq.ts";
import { makeTestPki, opensslBinary, type TestPki } from "./harness/tls.ts";
import { waitFor } from "./harness/wait.ts";

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
  let nats: NatsServer;
  const agents = {} as Record<"node1" | "node2", ConsulDouble>;
  let handler: BerthProcess | undefined;
  let engine: PrivateDockerEngine | undefined;
  let ready = false;

  const natsEnv = (user: keyof typeof PASSWORDS) => ({ NATS_URL: nats.url, BERTH_PREFIX: PREFIX, ...as(user) });
  const bus = async (user: keyof typeof PASSWORDS, name: string): Promise<Bus> => {
    const b = await connectBus(natsEnv(user), name);
    registerCleanup(`${name} bus`, () => b.drain().catch(() => undefined));
    return b;
  };
  const startHandler = async () => {
    handler = await startBerth("handler", {
      ...natsEnv("handler"),
      BERTH_CONSUL_AGENTS: `node1=${agents.node1.url},node2=${agents.node2.url}`,
    });
    await handler.waitForLog((l) => l.msg === "started", "handler started");
  };
  const dockerEngine = async () => {
    if (!engine) {
      engine = await startDockerd({ name: "secnats", ip: HOST_IP });
      await ensureTestImage(engine);
    }
    return engine;
  };

  before(async () => {
    if (!canStartNatsServer()) return;
    nats = await startNatsServer({ config: exampleConfig() });
    for (const node of ["node1", "node2"] as const) {
      agents[node] = await startConsulDouble({ node, address: HOST_IP });
      registerCleanup(`${node} agent double`, () => agents[node].close());
    }
    ready = true;
  });
  after(cleanupAll);

  const prerequisites = (t: TestContext) => requireOrSkip(t, "nats-server", ready);
  const withDocker = (t: TestContext) =>
    prerequisites(t) && requireOrSkip(t, `root and dockerd (missing: ${missingForDockerd().join(", ")})`, canStartDockerd());

  test("security-nats - only handlers may create the streams: an emitter started first exits naming the refused API subject", async (t) => {
    if (!prerequisites(t)) return;
    // No Docker is needed: the emitter sets up JetStream before it reads Docker.
    const env = { ...natsEnv("node1"), BERTH_NODE: "node1", DOCKER_HOST: "unix:///nonexistent/docker.sock" };
    const early = await startBerth("emitter", env);
    const exit = await exitOf(early);
    assert.equal(exit.code, 1);
    const stderr = early.stderr.join("\n");
    assert.match(
      stderr,
      /NatsPermissionError: NATS refused this connection permission to publish to "\$JS\.API\.STREAM\.CREATE\.BERTH_EVENTS"/,
    );
    assert.ok(!stderr.includes(PASSWORDS.node1), "the password is not printed");

    await startHandler(); // the handler's user may create the streams, the consumer and the bucket
    const later = await startBerth("emitter", env);
    await later.waitForLog((l) => l.msg === "started", "emitter started once the streams exist");
    await later.stop();
  });

  test("security-nats - node1's emitter publishes its own events and the handler applies them end to end", async (t) => {
    if (!withDocker(t)) return;
    if (!handler) await startHandler();
    const node1 = await dockerEngine();
    const emitter = await startBerth("emitter", {
      ...natsEnv("node1"),
      DOCKER_HOST: node1.host,
      BERTH_NODE: "node1",
      BERTH_HOST_IP: HOST_IP,
    });
    await emitter.waitForLog((l) => l.msg === "watching docker", "node1 emitter watching");
    const id = await docker(node1, "run", "-d", "--pull=never", "-e", "SERVICE_NAME=secure-web", "-p", "8080", TEST_IMAGE);
    const service = await waitFor(() => Object.values(agents.node1.services()).find((s) => s.Meta["berth_container"] === id), {
      what: "node1's container registered in node1's agent",
    });
    assert.equal(service.Service, "secure-web");
    assert.equal(service.Address, HOST_IP);
    assert.deepEqual(Object.keys(agents.node2.services()), [], "nothing reaches node2's agent");
    await emitter.stop();
  });

  test("security-nats - an emitter with node1's credentials that says it is node2 is stopped at start, saying which permission it lacks", async (t) => {
    if (!prerequisites(t)) return;
    if (!handler) await startHandler();
    // Replies to berth-emitter-node2 come to _INBOX.berth-emitter-node2.…, which only node2 may read.
    const forger = await startBerth("emitter", {
      ...natsEnv("node1"),
      BERTH_NODE: "node2",
      DOCKER_HOST: "unix:///nonexistent/docker.sock",
    });
    const exit = await exitOf(forger);
    const stderr = forger.stderr.join("\n");
    assert.equal(exit.code, 1, stderr);
    assert.match(
      stderr,
      /NatsPermissionError: NATS refused this connection permission to subscribe to its inbox "_INBOX\.berth-emitter-node2\./,
    );
    assert.ok(!forger.logs.some((l) => l.msg === "published"), "nothing was published");
    assert.ok(
      violations(nats).some((l) => /Subscription Violation - User "node1", Subject "_INBOX\.berth-emitter-node2\./.test(l)),
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
      { kind: "handler" as const, env: { BERTH_CONSUL_AGENTS: `node1=${agents.node1.url}`, NATS_USER: "handler" } },
      { kind: "emitter" as const, env: { BERTH_NODE: "node1", DOCKER_HOST: "unix:///nonexistent/docker.sock", NATS_USER: "node1" } },
    ];
    for (const { kind, env } of cases) {
      const proc = await startBerth(kind, { NATS_URL: nats.url, BERTH_PREFIX: PREFIX, ...env, NATS_PASSWORD: wrong });
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
  let nats: NatsServer;
  let pki: TestPki;
  let agent: ConsulDouble;
  let ready = false;

  before(async () => {
    if (!canStartNatsServer() || opensslBinary() === undefined) return;
    pki = await makeTestPki();
    const tls = `tls {\n  cert_file: "${pki.serverCertFile}"\n  key_file: "${pki.serverKeyFile}"\n  ca_file: "${pki.caFile}"\n  verify: true\n}\n`;
    nats = await startNatsServer({ config: exampleConfig(tls) });
    agent = await startConsulDouble({ node: "node1" });
    registerCleanup("tls agent double", () => agent.close());
    ready = true;
  });
  after(cleanupAll);

  const start = (tls: Record<string, string>) =>
    startBerth("handler", {
      NATS_URL: nats.url,
      BERTH_PREFIX: PREFIX,
      ...as("handler"),
      BERTH_CONSUL_AGENTS: `node1=${agent.url}`,
      ...tls,
    });

  test("security-nats - TLS: with NATS_CA (and a client certificate) the handler connects and works", async (t) => {
    if (!requireOrSkip(t, "nats-server and openssl", ready)) return;
    const handler = await start({ NATS_CA: pki.caFile, NATS_CERT: pki.clientCertFile, NATS_KEY: pki.clientKeyFile });
    await handler.waitForLog((l) => l.msg === "started", "handler started over TLS");
    const b = await connectBus(
      {
        NATS_URL: nats.url,
        BERTH_PREFIX: PREFIX,
        ...as("node1"),
        NATS_CA: pki.caFile,
        NATS_CERT: pki.clientCertFile,
        NATS_KEY: pki.clientKeyFile,
      },
      "berth-emitter-node1",
    );
    registerCleanup("tls node1 bus", () => b.drain().catch(() => undefined));
    const e = event({ node: "node1", container: { id: randomBytes(32).toString("hex") } });
    await publishDurable(b, subjectFor(PREFIX, e), bytesOf(e), e.id);
    await waitFor(() => Object.values(agent.services()).some((s) => s.Meta["berth_container"] === e.subject), {
      what: "an event applied over TLS",
    });
    await handler.stop();
  });

  test("security-nats - TLS: without NATS_CA, or with the wrong CA, the process stops at once saying so (no silent retrying)", async (t) => {
    if (!requireOrSkip(t, "nats-server and openssl", ready)) return;
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
