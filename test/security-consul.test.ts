// Consul ACL tokens and HTTPS to agents, with a real nats-server, a real handler process and agent
// doubles that enforce tokens (default deny, Consul's 403 texts) and serve HTTPS from a throw-away
// PKI. A refused registration is reported with the agent's text and never silently dropped.
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test, type TestContext } from "node:test";
import { toNodeSnapshot, type ContainerEvent } from "../schemas/index.ts";
import type { LogLine } from "./berth-process.ts";
import { event } from "./builders.ts";
import type { AclToken, ConsulDouble } from "./consul-double/index.ts";
import { cleanupAll, registerCleanup } from "./harness/cleanup.ts";
import { makeTestPki, opensslBinary, type TestPki } from "./harness/tls.ts";
import { waitFor } from "./harness/wait.ts";
import { startPipeline, type Pipeline } from "./pipeline/index.ts";

const token = () => randomUUID();
const writeAll = (accessorId: string): AclToken => ({ accessorId, serviceWrite: ["*"] });
const containerId = () => randomBytes(32).toString("hex");

const nowNanos = () => BigInt(Date.now()) * 1_000_000n;
/** A started event, now, of a fresh container on `node` whose service is named `name` (now: a node snapshot taken earlier does not make it history). */
const started = (node: string, name: string): ContainerEvent =>
  event({ node, timeNano: nowNanos(), container: { id: containerId(), name, env: { SERVICE_NAME: name } } });
const registered = (agent: ConsulDouble, e: ContainerEvent) =>
  Object.values(agent.services()).find((s) => s.Meta["berth_container"] === e.subject);

describe("security: Consul ACL tokens", () => {
  let p: Pipeline;
  const tokens = { node1: token(), node2: token(), node3: token(), limited: token() };
  const agents = { node1: () => p.agent("node1"), node2: () => p.agent("node2"), node3: () => p.agent("node3") };
  let tokenFile = "";

  before(async () => {
    // Default deny: a request without a valid token is refused, as on an agent with ACLs enabled.
    const deny = (own: Record<string, AclToken>) => ({ acl: { defaultPolicy: "deny" as const, tokens: own } });
    p = await startPipeline({
      prefix: "acl",
      nodes: [
        {
          name: "node1",
          agent: deny({
            [tokens.node1]: writeAll("a1"),
            [tokens.limited]: { accessorId: "limited-accessor", serviceWrite: ["allowed-*"] },
          }),
        },
        { name: "node2", agent: deny({ [tokens.node2]: writeAll("a2") }) },
        { name: "node3", agent: deny({ [tokens.node3]: writeAll("a3") }) },
      ],
      handlers: 0,
      bus: true,
    });
    if (!p.started) return;
    const tokenDir = mkdtempSync(join(tmpdir(), "berth-token-"));
    registerCleanup(`token dir (${tokenDir})`, () => {
      rmSync(tokenDir, { recursive: true, force: true });
      return Promise.resolve();
    });
    tokenFile = join(tokenDir, "node3.token");
    writeFileSync(tokenFile, `${tokens.node3}\n`, { mode: 0o600 });
  });
  after(cleanupAll);

  const prerequisites = (t: TestContext) => p.ready(t);
  const agentsEnv = (node1Token: string) => p.agentsEnv({ node1: node1Token, node3: `@${tokenFile}` });

  test("security-consul - each agent gets its own token (token=…, token=@file) or CONSUL_HTTP_TOKEN, and registrations pass default-deny ACLs", async (t) => {
    if (!prerequisites(t)) return;
    const handler = await p.startHandler({ BERTH_CONSUL_AGENTS: agentsEnv(tokens.node1), CONSUL_HTTP_TOKEN: tokens.node2 });
    const events = { node1: started("node1", "acl-one"), node2: started("node2", "acl-two"), node3: started("node3", "acl-three") };
    for (const e of Object.values(events)) await p.publish(e);
    for (const node of ["node1", "node2", "node3"] as const) {
      const [service] = await p.applied(events[node]); // registered as the mapping gives it, field by field
      assert.equal(service?.Service, events[node].data.container.name);
      const calls = agents[node]().requests.filter((r) => r.path.startsWith("/v1/agent/"));
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
    const handler = await p.startHandler({ BERTH_CONSUL_AGENTS: agentsEnv(wrong) });
    const e = started("node1", "acl-wrong-token");
    await p.publish(e);
    const isRejection = (l: LogLine) => l.msg === "dead-lettered" && l["container"] === e.subject;
    const line = await handler.waitForLog(isRejection, "the refusal logged");
    assert.equal(line.level, "warn");
    assert.equal(line["reason"], "agent-rejected");
    assert.deepEqual(line["problems"], ["agent.service.register 403: ACL not found"]);
    const refused = agents.node1().requests.filter((r) => r.token === wrong);
    assert.ok(refused.length > 0 && refused.every((r) => r.status === 403), "the agent answered 403");
    const letter = await waitFor(async () => (await p.deadLetters()).find((l) => l.payload.includes(e.subject)), {
      what: "the dead letter",
    });
    assert.equal(letter.dlqSubject, "acl.v1.dlq.agent-rejected");
    assert.deepEqual(letter.problems, ["agent.service.register 403: ACL not found"]);
    assert.ok(
      !JSON.stringify(letter).includes(wrong) && !handler.logs.some((l) => JSON.stringify(l).includes(wrong)),
      "the token is not printed",
    );
    assert.equal(registered(agents.node1(), e), undefined);
    await handler.stop();

    // Fixed: the handler restarted with the right token; the emitter's periodic snapshot lists the
    // container, and reconciliation registers it from the state the refused event left.
    const fixed = await p.startHandler({ BERTH_CONSUL_AGENTS: agentsEnv(tokens.node1) });
    await p.publish(toNodeSnapshot({ name: "node1" }, nowNanos(), [e.data.container.id]));
    await p.applied(e); // the container registered after the token was fixed
    await fixed.stop();
  });

  test("security-consul - a token without service:write on the name: Consul's 'Permission denied' text is dead-lettered; names it may write are registered", async (t) => {
    if (!prerequisites(t)) return;
    const handler = await p.startHandler({ BERTH_CONSUL_AGENTS: agentsEnv(tokens.limited) });
    const denied = started("node1", "forbidden-web");
    const allowed = started("node1", "allowed-web");
    await p.publish(denied);
    await p.publish(allowed);
    await p.applied(allowed); // the allowed name registered
    const line = await handler.waitForLog((l) => l.msg === "dead-lettered" && l["container"] === denied.subject, "the refusal logged");
    assert.equal(line["reason"], "agent-rejected");
    assert.deepEqual(line["problems"], [
      `agent.service.register 403: Permission denied: token with AccessorID 'limited-accessor' lacks permission 'service:write' on "forbidden-web"`,
    ]);
    assert.equal(registered(agents.node1(), denied), undefined);
    await handler.stop();
  });
});

describe("security: HTTPS to Consul agents", () => {
  let p: Pipeline;
  let pki: TestPki;
  const tlsAgent = () => p.agent("node1"); // HTTPS
  const mtlsAgent = () => p.agent("node2"); // HTTPS, and only for clients with a certificate our CA signed

  before(async () => {
    const openssl = opensslBinary() !== undefined;
    if (openssl) pki = await makeTestPki();
    const read = (f: string) => readFileSync(f, "utf8");
    const server = openssl ? { cert: read(pki.serverCertFile), key: read(pki.serverKeyFile) } : undefined;
    p = await startPipeline({
      prefix: "atls",
      nodes: server
        ? [
            { name: "node1", agent: { tls: server } },
            { name: "node2", agent: { tls: { ...server, ca: read(pki.caFile), requireClientCert: true } } },
          ]
        : [],
      handlers: 0,
      bus: true,
      requires: { openssl },
    });
  });
  after(cleanupAll);

  const prerequisites = (t: TestContext) => p.ready(t);
  const agentsEnv = () => p.agentsEnv();
  const clientCert = () => ({ CONSUL_CLIENT_CERT: pki.clientCertFile, CONSUL_CLIENT_KEY: pki.clientKeyFile });
  const retriedWith = (e: ContainerEvent, text: RegExp) => (l: LogLine) =>
    l.msg === "deferred" && l["container"] === e.subject && text.test(String(l["waiting_for"]));

  test("security-consul - HTTPS: with CONSUL_CACERT the handler registers over TLS, and with CONSUL_CLIENT_CERT/KEY into an agent that verifies clients", async (t) => {
    if (!prerequisites(t)) return;
    assert.match(tlsAgent().url, /^https:/);
    const handler = await p.startHandler({ BERTH_CONSUL_AGENTS: agentsEnv(), CONSUL_CACERT: pki.caFile, ...clientCert() });
    const one = started("node1", "tls-one");
    const two = started("node2", "mtls-two");
    await p.publish(one);
    await p.publish(two);
    await p.applied(one); // registered over HTTPS
    await p.applied(two); // registered over HTTPS with a client certificate
    assert.deepEqual(mtlsAgent().tlsClientErrors, []);
    await handler.stop();
  });

  test("security-consul - HTTPS: the wrong CA is reported as such and retried, and the event is applied once the CA is right", async (t) => {
    if (!prerequisites(t)) return;
    const e = started("node1", "tls-wrong-ca");
    const handler = await p.startHandler({ BERTH_CONSUL_AGENTS: agentsEnv(), CONSUL_CACERT: pki.otherCaFile, ...clientCert() });
    await p.publish(e);
    const line = await handler.waitForLog(
      retriedWith(e, /the agent's certificate is not trusted: CONSUL_CACERT does not hold the CA that signed it/),
      "a retry naming the CA problem",
    );
    assert.equal(line.level, "warn");
    assert.match(String(line["waiting_for"]), /^agent unreachable: /, "left to the node's repair, as for an agent that does not answer");
    assert.equal(registered(tlsAgent(), e), undefined);
    assert.ok(!handler.logs.some((l) => l.msg === "dead-lettered"), "not dead-lettered: waiting can help once the CA is fixed");
    await handler.stop();

    const fixed = await p.startHandler({ BERTH_CONSUL_AGENTS: agentsEnv(), CONSUL_CACERT: pki.caFile, ...clientCert() });
    await p.applied(e, 20_000); // the same event applied once the CA is right
    await fixed.stop();
  });

  test("security-consul - HTTPS: without a client certificate an agent that verifies clients refuses the handshake; retried with the hint, applied once one is given", async (t) => {
    if (!prerequisites(t)) return;
    const e = started("node2", "mtls-no-cert");
    const handler = await p.startHandler({ BERTH_CONSUL_AGENTS: agentsEnv(), CONSUL_CACERT: pki.caFile });
    await p.publish(e);
    await handler.waitForLog(
      retriedWith(e, /set CONSUL_CLIENT_CERT and CONSUL_CLIENT_KEY/),
      "a retry naming the missing client certificate",
    );
    assert.ok(
      mtlsAgent().tlsClientErrors.some((m) => /peer did not return a certificate/.test(m)),
      "the agent refused the handshake",
    );
    assert.equal(registered(mtlsAgent(), e), undefined);
    await handler.stop();

    const fixed = await p.startHandler({ BERTH_CONSUL_AGENTS: agentsEnv(), CONSUL_CACERT: pki.caFile, ...clientCert() });
    await p.applied(e, 20_000); // the same event applied with a client certificate
    await fixed.stop();
  });
});
