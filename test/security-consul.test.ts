// Consul ACL tokens and HTTPS to agents, with a real nats-server, a real handler process and agent
// doubles that enforce tokens (default deny, Consul's 403 texts) and serve HTTPS from a throw-away
// PKI. A refused registration is reported with the agent's text and never silently dropped.
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test, type TestContext } from "node:test";
import { connectBus, ensureJetStream, publishDurable, type Bus } from "../common/nats/index.ts";
import { readDeadLetters } from "./dead-letters.ts";
import { subjectFor, toNodeSnapshot, type BerthEvent, type ContainerEvent } from "../schemas/index.ts";
import { startBerth, type BerthProcess, type LogLine } from "./berth-process.ts";
import { bytesOf, event } from "./builders.ts";
import { startConsulDouble, type AclToken, type ConsulDouble, type ConsulDoubleOptions } from "./consul-double/index.ts";
import { cleanupAll, registerCleanup } from "./harness/cleanup.ts";
import { canStartNatsServer, startNatsServer, type NatsServer } from "./harness/nats.ts";
import { requireOrSkip } from "./harness/prereq.ts";
import { makeTestPki, opensslBinary, type TestPki } from "./harness/tls.ts";
import { waitFor } from "./harness/wait.ts";

const token = () => randomUUID();
const writeAll = (accessorId: string): AclToken => ({ accessorId, serviceWrite: ["*"] });
const containerId = () => randomBytes(32).toString("hex");

const nowNanos = () => BigInt(Date.now()) * 1_000_000n;
/** A started event, now, of a fresh container on `node` whose service is named `name` (now: a node snapshot taken earlier does not make it history). */
const started = (node: string, name: string): ContainerEvent =>
  event({ node, timeNano: nowNanos(), container: { id: containerId(), name, env: { SERVICE_NAME: name } } });
const registered = (agent: ConsulDouble, e: ContainerEvent) =>
  Object.values(agent.services()).find((s) => s.Meta["berth_container"] === e.subject);

/** A nats-server and a publisher shared by one describe block; each block has its own prefix. */
function pipeline(prefix: string) {
  const ctx = { nats: undefined as unknown as NatsServer, bus: undefined as unknown as Bus };
  return Object.assign(ctx, {
    async start() {
      ctx.nats = await startNatsServer();
      ctx.bus = await connectBus({ NATS_URL: ctx.nats.url, BERTH_PREFIX: prefix }, `security-consul-${prefix}`);
      registerCleanup(`${prefix} bus`, () => ctx.bus.drain());
      await ensureJetStream(ctx.bus);
    },
    publish: (e: BerthEvent) => publishDurable(ctx.bus, subjectFor(prefix, e), bytesOf(e), e.id),
    async handler(env: Record<string, string>): Promise<BerthProcess> {
      const handler = await startBerth("handler", { NATS_URL: ctx.nats.url, BERTH_PREFIX: prefix, ...env });
      await handler.waitForLog((l) => l.msg === "started", "handler started");
      return handler;
    },
    async deadLetters() {
      return (await readDeadLetters(ctx.bus, 1000)).map((m) => ({
        dlqSubject: m.subject,
        ...(JSON.parse(new TextDecoder().decode(m.data)) as { reason: string; problems: string[]; payload: string }),
      }));
    },
  });
}

async function agentDouble(node: string, options: ConsulDoubleOptions): Promise<ConsulDouble> {
  const agent = await startConsulDouble({ node, ...options });
  registerCleanup(`${node} agent double`, () => agent.close());
  return agent;
}

describe("security: Consul ACL tokens", () => {
  const bus = pipeline("acl");
  const tokens = { node1: token(), node2: token(), node3: token(), limited: token() };
  const agents = {} as Record<"node1" | "node2" | "node3", ConsulDouble>;
  let tokenFile = "";
  let ready = false;

  before(async () => {
    if (!canStartNatsServer()) return;
    await bus.start();
    // Default deny: a request without a valid token is refused, as on an agent with ACLs enabled.
    agents.node1 = await agentDouble("node1", {
      acl: {
        defaultPolicy: "deny",
        tokens: { [tokens.node1]: writeAll("a1"), [tokens.limited]: { accessorId: "limited-accessor", serviceWrite: ["allowed-*"] } },
      },
    });
    agents.node2 = await agentDouble("node2", { acl: { defaultPolicy: "deny", tokens: { [tokens.node2]: writeAll("a2") } } });
    agents.node3 = await agentDouble("node3", { acl: { defaultPolicy: "deny", tokens: { [tokens.node3]: writeAll("a3") } } });
    const tokenDir = mkdtempSync(join(tmpdir(), "berth-token-"));
    registerCleanup(`token dir (${tokenDir})`, () => {
      rmSync(tokenDir, { recursive: true, force: true });
      return Promise.resolve();
    });
    tokenFile = join(tokenDir, "node3.token");
    writeFileSync(tokenFile, `${tokens.node3}\n`, { mode: 0o600 });
    ready = true;
  });
  after(cleanupAll);

  const prerequisites = (t: TestContext) => requireOrSkip(t, "nats-server", ready);
  const agentsEnv = (node1Token: string) =>
    `node1=${agents.node1.url};token=${node1Token},node2=${agents.node2.url},node3=${agents.node3.url};token=@${tokenFile}`;

  test("security-consul - each agent gets its own token (token=…, token=@file) or CONSUL_HTTP_TOKEN, and registrations pass default-deny ACLs", async (t) => {
    if (!prerequisites(t)) return;
    const handler = await bus.handler({ BERTH_CONSUL_AGENTS: agentsEnv(tokens.node1), CONSUL_HTTP_TOKEN: tokens.node2 });
    const events = { node1: started("node1", "acl-one"), node2: started("node2", "acl-two"), node3: started("node3", "acl-three") };
    for (const e of Object.values(events)) await bus.publish(e);
    for (const node of ["node1", "node2", "node3"] as const) {
      const service = await waitFor(() => registered(agents[node], events[node]), { what: `${node}'s service registered` });
      assert.equal(service.Service, events[node].data.container.name);
      const calls = agents[node].requests.filter((r) => r.path.startsWith("/v1/agent/"));
      assert.ok(calls.length >= 1, `${node}: registering (a container's first state needs no listing)`);
      assert.deepEqual(new Set(calls.map((r) => r.token)), new Set([tokens[node]]), `${node}: every call carried its own token`);
      assert.ok(
        calls.every((r) => r.status === 200),
        `${node}: no call refused`,
      );
    }
    await handler.stop();
  });

  test("security-consul - a wrong token: Consul's 403 'ACL not found' is dead-lettered as agent-rejected with the agent's text; the state is kept, and the next snapshot registers it once the token is fixed", async (t) => {
    if (!prerequisites(t)) return;
    const wrong = token();
    const handler = await bus.handler({ BERTH_CONSUL_AGENTS: agentsEnv(wrong) });
    const e = started("node1", "acl-wrong-token");
    await bus.publish(e);
    const isRejection = (l: LogLine) => l.msg === "dead-lettered" && l["container"] === e.subject;
    const line = await handler.waitForLog(isRejection, "the refusal logged");
    assert.equal(line.level, "warn");
    assert.equal(line["reason"], "agent-rejected");
    assert.deepEqual(line["problems"], ["agent.service.register 403: ACL not found"]);
    const refused = agents.node1.requests.filter((r) => r.token === wrong);
    assert.ok(refused.length > 0 && refused.every((r) => r.status === 403), "the agent answered 403");
    const letter = await waitFor(async () => (await bus.deadLetters()).find((l) => l.payload.includes(e.subject)), {
      what: "the dead letter",
    });
    assert.equal(letter.dlqSubject, "acl.v1.dlq.agent-rejected");
    assert.deepEqual(letter.problems, ["agent.service.register 403: ACL not found"]);
    assert.ok(
      !JSON.stringify(letter).includes(wrong) && !handler.logs.some((l) => JSON.stringify(l).includes(wrong)),
      "the token is not printed",
    );
    assert.equal(registered(agents.node1, e), undefined);
    await handler.stop();

    // Fixed: the handler restarted with the right token; the emitter's periodic snapshot lists the
    // container, and reconciliation registers it from the state the refused event left.
    const fixed = await bus.handler({ BERTH_CONSUL_AGENTS: agentsEnv(tokens.node1) });
    await bus.publish(toNodeSnapshot({ name: "node1" }, nowNanos(), [e.data.container.id]));
    await waitFor(() => registered(agents.node1, e), { what: "the container registered after the token was fixed" });
    await fixed.stop();
  });

  test("security-consul - a token without service:write on the name: Consul's 'Permission denied' text is dead-lettered; names it may write are registered", async (t) => {
    if (!prerequisites(t)) return;
    const handler = await bus.handler({ BERTH_CONSUL_AGENTS: agentsEnv(tokens.limited) });
    const denied = started("node1", "forbidden-web");
    const allowed = started("node1", "allowed-web");
    await bus.publish(denied);
    await bus.publish(allowed);
    await waitFor(() => registered(agents.node1, allowed), { what: "the allowed name registered" });
    const line = await handler.waitForLog((l) => l.msg === "dead-lettered" && l["container"] === denied.subject, "the refusal logged");
    assert.equal(line["reason"], "agent-rejected");
    assert.deepEqual(line["problems"], [
      `agent.service.register 403: Permission denied: token with AccessorID 'limited-accessor' lacks permission 'service:write' on "forbidden-web"`,
    ]);
    assert.equal(registered(agents.node1, denied), undefined);
    await handler.stop();
  });
});

describe("security: HTTPS to Consul agents", () => {
  const bus = pipeline("atls");
  let pki: TestPki;
  let tlsAgent: ConsulDouble; // HTTPS
  let mtlsAgent: ConsulDouble; // HTTPS, and only for clients with a certificate our CA signed
  let ready = false;

  before(async () => {
    if (!canStartNatsServer() || opensslBinary() === undefined) return;
    await bus.start();
    pki = await makeTestPki();
    const read = (f: string) => readFileSync(f, "utf8");
    const server = { cert: read(pki.serverCertFile), key: read(pki.serverKeyFile) };
    tlsAgent = await agentDouble("node1", { tls: server });
    mtlsAgent = await agentDouble("node2", { tls: { ...server, ca: read(pki.caFile), requireClientCert: true } });
    ready = true;
  });
  after(cleanupAll);

  const prerequisites = (t: TestContext) => requireOrSkip(t, "nats-server and openssl", ready);
  const agentsEnv = () => `node1=${tlsAgent.url},node2=${mtlsAgent.url}`;
  const clientCert = () => ({ CONSUL_CLIENT_CERT: pki.clientCertFile, CONSUL_CLIENT_KEY: pki.clientKeyFile });
  const retriedWith = (e: ContainerEvent, text: RegExp) => (l: LogLine) =>
    l.msg === "deferred" && l["container"] === e.subject && text.test(String(l["waiting_for"]));

  test("security-consul - HTTPS: with CONSUL_CACERT the handler registers over TLS, and with CONSUL_CLIENT_CERT/KEY into an agent that verifies clients", async (t) => {
    if (!prerequisites(t)) return;
    assert.match(tlsAgent.url, /^https:/);
    const handler = await bus.handler({ BERTH_CONSUL_AGENTS: agentsEnv(), CONSUL_CACERT: pki.caFile, ...clientCert() });
    const one = started("node1", "tls-one");
    const two = started("node2", "mtls-two");
    await bus.publish(one);
    await bus.publish(two);
    await waitFor(() => registered(tlsAgent, one), { what: "registered over HTTPS" });
    await waitFor(() => registered(mtlsAgent, two), { what: "registered over HTTPS with a client certificate" });
    assert.deepEqual(mtlsAgent.tlsClientErrors, []);
    await handler.stop();
  });

  test("security-consul - HTTPS: the wrong CA is reported as such and retried, and the event is applied once the CA is right", async (t) => {
    if (!prerequisites(t)) return;
    const e = started("node1", "tls-wrong-ca");
    const handler = await bus.handler({ BERTH_CONSUL_AGENTS: agentsEnv(), CONSUL_CACERT: pki.otherCaFile, ...clientCert() });
    await bus.publish(e);
    const line = await handler.waitForLog(
      retriedWith(e, /the agent's certificate is not trusted: CONSUL_CACERT does not hold the CA that signed it/),
      "a retry naming the CA problem",
    );
    assert.equal(line.level, "warn");
    assert.match(String(line["waiting_for"]), /^agent unreachable: /, "left to the node's repair, as for an agent that does not answer");
    assert.equal(registered(tlsAgent, e), undefined);
    assert.ok(!handler.logs.some((l) => l.msg === "dead-lettered"), "not dead-lettered: waiting can help once the CA is fixed");
    await handler.stop();

    const fixed = await bus.handler({ BERTH_CONSUL_AGENTS: agentsEnv(), CONSUL_CACERT: pki.caFile, ...clientCert() });
    await waitFor(() => registered(tlsAgent, e), { what: "the same event applied once the CA is right", timeoutMs: 20_000 });
    await fixed.stop();
  });

  test("security-consul - HTTPS: without a client certificate an agent that verifies clients refuses the handshake; retried with the hint, applied once one is given", async (t) => {
    if (!prerequisites(t)) return;
    const e = started("node2", "mtls-no-cert");
    const handler = await bus.handler({ BERTH_CONSUL_AGENTS: agentsEnv(), CONSUL_CACERT: pki.caFile });
    await bus.publish(e);
    await handler.waitForLog(
      retriedWith(e, /set CONSUL_CLIENT_CERT and CONSUL_CLIENT_KEY/),
      "a retry naming the missing client certificate",
    );
    assert.ok(
      mtlsAgent.tlsClientErrors.some((m) => /peer did not return a certificate/.test(m)),
      "the agent refused the handshake",
    );
    assert.equal(registered(mtlsAgent, e), undefined);
    await handler.stop();

    const fixed = await bus.handler({ BERTH_CONSUL_AGENTS: agentsEnv(), CONSUL_CACERT: pki.caFile, ...clientCert() });
    await waitFor(() => registered(mtlsAgent, e), { what: "the same event applied with a client certificate", timeoutMs: 20_000 });
    await fixed.stop();
  });
});
