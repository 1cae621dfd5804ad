// What a real Consul agent answers around berth's calls (issue 12), through the handler's own path
// (handleMessage → applyToAgent → agentClient) against the agent double, which answers as Consul's
// source does: script checks refused by default, replace-existing-checks, Go's duration limits,
// checks run from the agent's network.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { createLogger } from "../common/log.ts";
import { applyToAgent, fallbackFor, refusedCheckId } from "../handler/apply.ts";
import { agentClient, ConsulError, isRetryable, type AgentClient } from "../handler/consul.ts";
import { handleMessage, type HandlerDeps } from "../handler/consume.ts";
import type { DeadLetterReason } from "../handler/dead-letter.ts";
import { stamped } from "../handler/fingerprint.ts";
import { goDurationNanos } from "../handler/go-duration.ts";
import { healthCheckId } from "../handler/health-check.ts";
import { servicesFor } from "../handler/mapping.ts";
import { OWNER_META } from "../handler/meta.ts";
import { NO_HANDLER_METRICS, type HandlerMetrics } from "../handler/metrics.ts";
import { readNode, repairNode } from "../handler/repair.ts";
import { subjectFor, type ContainerEvent } from "../schemas/index.ts";
import { bytesOf, event, ID_A, ID_B, isolation, memoryBucket, message, publish, settings } from "./builders.ts";
import { startConsulDouble, type ConsulDouble, type ConsulDoubleOptions } from "./consul-double/index.ts";

const doubles: ConsulDouble[] = [];
const clients: AgentClient[] = [];
after(async () => {
  await Promise.all([...clients.map((c) => c.close()), ...doubles.map((d) => d.close())]);
});

const SCRIPTS_DISABLED = "Scripts are disabled on this agent from remote calls; to enable, configure 'enable_script_checks' to true";

async function setup(options: ConsulDoubleOptions = {}) {
  const double = await startConsulDouble({ node: "node3", ...options });
  doubles.push(double);
  const agent = agentClient(double.url);
  clients.push(agent);
  const letters: { reason: DeadLetterReason; problems: string[] }[] = [];
  const counted: string[] = [];
  const metrics: HandlerMetrics = { ...NO_HANDLER_METRICS, deadLettered: (reason, node) => void counted.push(`${reason} ${node}`) };
  const lines: Record<string, unknown>[] = [];
  const log = createLogger("handler", "info", {}, "json", {
    write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>),
  });
  const { repairs, ...isolated } = isolation();
  const deps: HandlerDeps = {
    prefix: "berth",
    ...isolated,
    bucket: memoryBucket(),
    agentFor: () => agent,
    deadLetter: (_msg, reason, problems) => {
      letters.push({ reason, problems });
      return Promise.resolve();
    },
    log,
    metrics,
  };
  const send = async (e: ContainerEvent) => {
    const { msg, settled } = message(subjectFor("berth", e), bytesOf(e));
    await handleMessage(deps, msg);
    return settled;
  };
  return { double, agent, deps, send, letters, counted, repairs, lines };
}

const registers = (d: ConsulDouble) => d.requests.filter((r) => r.path === "/v1/agent/service/register");
const checksOf = (d: ConsulDouble, serviceId: string) =>
  Object.values(d.checks())
    .filter((c) => c.ServiceID === serviceId)
    .map((c) => c.CheckID)
    .sort();

/** Two published ports: 8080 with a script check (SERVICE_8080_CHECK_SCRIPT), 9090 with an HTTP check. */
const twoPorts = (env: Record<string, string> = {}) =>
  event({
    container: {
      ports: publish("8080:8080", "9090:9090"),
      health: "healthy",
      env: { SERVICE_NAME: "app", SERVICE_8080_CHECK_SCRIPT: "curl -f localhost:8080", SERVICE_9090_CHECK_HTTP: "/health", ...env },
    },
  });
const SCRIPTED = `node3:svc4:${ID_A.slice(0, 12)}:8080`;
const PLAIN = `node3:svc4:${ID_A.slice(0, 12)}:9090`;

describe("agent answers", () => {
  test("refusals - Consul's permanent refusals are not retryable; trouble that passes is", () => {
    assert.equal(isRetryable(500, SCRIPTS_DISABLED), false);
    assert.equal(
      isRetryable(
        500,
        "Scripts are disabled on this agent; to enable, configure 'enable_script_checks' or 'enable_local_script_checks' to true",
      ),
      false,
    );
    assert.equal(isRetryable(500, 'Service tagged address "lan_ipv4" must be a valid ipv4 address'), false);
    assert.equal(isRetryable(500, 'CheckID "berth-health:x" does not have associated TTL'), false);
    assert.equal(isRetryable(500, "rpc error making call: No cluster leader"), true);
    assert.equal(isRetryable(503, ""), true);
    assert.equal(isRetryable(429, ""), true);
    assert.equal(isRetryable(0, "connect ECONNREFUSED"), true);
    assert.equal(isRetryable(400, "Invalid check: TTL must be > 0 for TTL checks"), false);
    assert.equal(new ConsulError("agent.service.register", 500, SCRIPTS_DISABLED).retryable, false);
  });

  test("refusals - one service refused for its script check: the other registers, the refused one is kept without it and critical, and the message is dead-lettered, not retried", async () => {
    const { double, send, letters, counted, repairs } = await setup();
    assert.deepEqual(await send(twoPorts()), { acked: 1, naks: [] });
    assert.deepEqual(repairs, [], "a refusal is not trouble that passes: the node does not wait for a repair");
    const services = double.services();
    assert.deepEqual(Object.keys(services).sort(), [SCRIPTED, PLAIN]);
    assert.deepEqual(checksOf(double, PLAIN), [healthCheckId(PLAIN), `service:${PLAIN}:1`]);
    assert.deepEqual(
      checksOf(double, SCRIPTED),
      [healthCheckId(SCRIPTED), refusedCheckId(SCRIPTED)],
      "no script check, the health check kept",
    );
    const refused = double.checks()[refusedCheckId(SCRIPTED)];
    assert.equal(refused?.Status, "critical");
    assert.equal(refused.Output, `agent answered 500: ${SCRIPTS_DISABLED}`);
    assert.match(refused.Notes, /without its script checks: the agent answered 500: Scripts are disabled/);
    assert.equal(double.checks()[healthCheckId(SCRIPTED)]?.Status, "passing", "Docker's health is still mirrored");
    assert.equal(letters.length, 1);
    assert.equal(letters[0]?.reason, "agent-rejected");
    assert.equal(
      letters[0].problems[0],
      `agent.service.register 500: ${SCRIPTS_DISABLED} (service ${SCRIPTED}: registered without its script checks, with the critical check ${refusedCheckId(SCRIPTED)})`,
    );
    assert.deepEqual(counted, ["agent-rejected node3"]);
    // The fallback carries the hash of the body berth wanted, so the agent's listing says "current".
    const wanted = stamped(servicesFor(twoPorts(), settings()).services.find((s) => s.ID === SCRIPTED)!);
    assert.equal(services[SCRIPTED]?.Meta[OWNER_META.hash], wanted.Meta?.[OWNER_META.hash]);
  });

  test("refusals - reconciliation takes the fallback as current: no register, no new dead letter, at every snapshot", async () => {
    const { double, agent, deps, send, letters } = await setup();
    await send(twoPorts());
    const before = registers(double).length;
    for (let snapshot = 0; snapshot < 3; snapshot++) {
      const refusedAgain: string[] = [];
      const result = await repairNode(
        { bucket: deps.bucket, agent, settings: settings(), refused: (_s, err) => Promise.resolve(void refusedAgain.push(err.message)) },
        { name: "node3" },
        await readNode(deps.bucket, "node3"),
        2_000_000_000_000_000_000n,
      );
      assert.deepEqual(result, { missing: 0, stale: 0, fixed: 0, refused: 0 });
      assert.deepEqual(refusedAgain, []);
    }
    assert.equal(registers(double).length, before);
    assert.equal(letters.length, 1);
  });

  test("refusals - an agent with enable_script_checks takes the whole body: nothing refused", async () => {
    const { double, send, letters } = await setup({ enableScriptChecks: true });
    await send(twoPorts());
    assert.deepEqual(letters, []);
    assert.deepEqual(checksOf(double, SCRIPTED), [healthCheckId(SCRIPTED), `service:${SCRIPTED}:1`]);
    assert.equal(double.checks()[`service:${SCRIPTED}:1`]?.Type, "script");
  });

  test("refusals - a refusal of the body itself: the service is registered bare, with its health check and the critical check", () => {
    const [service] = servicesFor(
      event({ container: { health: "starting", env: { SERVICE_CHECK_HTTP: "/", SERVICE_REGION: "eu" } } }),
      settings(),
    ).services;
    const made = fallbackFor(service!, new ConsulError("agent.service.register", 400, "Invalid check: something berth missed"));
    assert.equal(made?.fallback, "bare");
    assert.deepEqual(Object.keys(made.body.Meta ?? {}).sort(), [OWNER_META.container, OWNER_META.node]);
    assert.deepEqual(
      made.body.Checks?.map((c) => c.CheckID),
      [healthCheckId(service!.ID), refusedCheckId(service!.ID)],
    );
    assert.equal(fallbackFor(service!, new ConsulError("agent.service.register", 403, "Permission denied")), undefined, "ACLs: nothing");
  });

  test("replace - a reused SERVICE_ID leaves none of the old container's checks, its Docker health check included", async () => {
    const { double, send } = await setup();
    const first = event({
      container: {
        health: "unhealthy",
        env: { SERVICE_ID: "web", SERVICE_NAME: "web", SERVICE_CHECK_HTTP: "/", SERVICE_CHECK_TCP: "true" },
      },
    });
    await send(first);
    assert.deepEqual(checksOf(double, "web"), [healthCheckId("web"), "service:web:1", "service:web:2"]);
    assert.equal(double.checks()[healthCheckId("web")]?.Status, "critical");
    // A new container takes the ID over, without the TCP key and without a HEALTHCHECK.
    const second = event({
      timeNano: 1_700_000_000_000_000_100n,
      container: { id: ID_B, name: "web2", env: { SERVICE_ID: "web", SERVICE_NAME: "web", SERVICE_CHECK_TTL: "30s" } },
    });
    await send(second);
    assert.deepEqual(checksOf(double, "web"), ["service:web"], "no stale check: not the HTTP, not the TCP, not berth-health:web");
    assert.equal(double.services()["web"]?.Meta[OWNER_META.container], ID_B);
  });

  test("owned only - an agent that ignores ?filter= (before Consul 1.5) lists every service: berth still touches only its own", async () => {
    const { double, agent } = await setup();
    const ignoring: AgentClient = { ...agent, services: () => agent.services("") };
    const foreign = { ID: "db", Name: "db", Meta: { [OWNER_META.node]: "node3", [OWNER_META.container]: ID_B } };
    assert.equal((await fetch(`${double.url}/v1/agent/service/register`, { method: "PUT", body: JSON.stringify(foreign) })).status, 200);
    assert.equal(
      (await fetch(`${double.url}/v1/agent/service/register`, { method: "PUT", body: JSON.stringify({ Name: "handmade" }) })).status,
      200,
    );
    await applyToAgent(ignoring, event(), settings());
    await applyToAgent(ignoring, event({ type: "io.berth.container.stopped", timeNano: 1_700_000_000_000_000_001n }), settings());
    assert.deepEqual(Object.keys(double.services()).sort(), ["db", "handmade"]);
  });

  test("durations - one beyond Go's time.Duration is dropped with a warning, and the service registers", async () => {
    const { double, send, letters, lines } = await setup();
    const e = event({
      container: { env: { SERVICE_CHECK_HTTP: "/", SERVICE_CHECK_INTERVAL: "3000000h", SERVICE_CHECK_TIMEOUT: "0.5ns" } },
    });
    assert.deepEqual(await send(e), { acked: 1, naks: [] });
    assert.deepEqual(letters, []);
    const [id] = Object.keys(double.services());
    assert.deepEqual([double.checks()[`service:${id}`]?.Interval, double.checks()[`service:${id}`]?.Timeout], ["10s", ""]);
    const warned = lines.find((l) => l["msg"] === "mapping warnings")?.["warnings"] as string[];
    assert.equal(warned.length, 2, warned.join("\n"));
    assert.ok(
      warned[0]?.endsWith(
        'SERVICE_CHECK_INTERVAL="3000000h" is longer than Consul accepts (Go\'s limit: 2562047h47m16.854775807s): ignored',
      ),
    );
    assert.ok(warned[1]?.endsWith('SERVICE_CHECK_TIMEOUT="0.5ns" is not a positive duration such as 10s or 1m30s: ignored'));
  });

  test("durations - berth's bound is Go's to the nanosecond, and the agent agrees", async () => {
    assert.equal(goDurationNanos("2562047h47m16.854775807s"), (1n << 63n) - 1n);
    assert.equal(goDurationNanos("2562047h47m16.854775808s"), undefined);
    assert.equal(goDurationNanos("9223372036854775807ns"), (1n << 63n) - 1n);
    assert.equal(goDurationNanos("9223372036854775808ns"), undefined);
    assert.equal(goDurationNanos("1.5h"), 5_400_000_000_000n);
    assert.equal(goDurationNanos("1h0.5m.25s"), 3_630_250_000_000n);
    assert.equal(goDurationNanos("0.5ns"), 0n);
    assert.equal(goDurationNanos("10"), undefined);
    assert.equal(goDurationNanos("10d"), undefined);
    const { double, send, letters } = await setup();
    await send(event({ container: { env: { SERVICE_CHECK_TTL: "2562047h47m16.854775807s" } } }));
    await send(event({ container: { id: ID_B, name: "b", env: { SERVICE_CHECK_TTL: "2562047h47m16.854775808s" } } }));
    assert.deepEqual(letters, []);
    const ttls = Object.values(double.checks()).map((c) => c.Type);
    assert.deepEqual(ttls, ["ttl"], "the first kept its TTL check; the second registered without one");
  });

  test("loopback - a check at a loopback address is warned about in the handler's log (and explain's)", async () => {
    const { send, lines } = await setup();
    await send(event({ hostIp: "127.0.0.1", container: { env: { SERVICE_CHECK_HTTP: "/" } } }));
    const warned = lines.find((l) => l["msg"] === "mapping warnings")?.["warnings"] as string[];
    assert.equal(warned.length, 1, warned.join("\n"));
    assert.ok(
      warned[0]?.endsWith(
        "the check targets 127.0.0.1:8084, a loopback address: the node's Consul agent runs the check from its own network namespace, so it passes only if that agent shares this host's (network_mode: host)",
      ),
      warned[0],
    );
    const quiet = servicesFor(event({ hostIp: "10.0.0.3", container: { env: { SERVICE_CHECK_HTTP: "/" } } }), settings());
    assert.deepEqual(quiet.warnings, []);
    const v6 = servicesFor(event({ container: { ports: publish("[::1]:8084:8080"), env: { SERVICE_CHECK_TCP: "1" } } }), settings());
    assert.match(v6.warnings[0] ?? "", /the check targets \[::1\]:8084, a loopback address/);
  });

  test("loopback - an agent in a network namespace of its own cannot pass a check at the host's loopback", async (t) => {
    const { createServer } = await import("node:http");
    const server = createServer((_req, res) => res.end("ok"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as import("node:net").AddressInfo).port;
    const body = (id: string) => ({ ID: id, Name: id, Port: port, Check: { HTTP: `http://127.0.0.1:${port}/`, Interval: "1s" } });
    const results: Record<string, string | undefined> = {};
    for (const network of ["host", "own"] as const) {
      const { double, agent } = await setup({ network });
      await agent.register(body(network));
      const deadline = Date.now() + 10_000;
      while (double.checks()[`service:${network}`]?.Output === "" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      results[network] = double.checks()[`service:${network}`]?.Status;
    }
    assert.deepEqual(results, { host: "passing", own: "critical" });
  });
});
