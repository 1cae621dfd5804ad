// What a real Consul agent answers around berth's calls (issue 12), through the handler's own path
// against the agent double (test/unit-agent-answers-fixture.ts): Consul's permanent refusals are not
// retried; a service refused for its script checks (refused by default, as Consul's source does) is
// registered without them, with a critical check saying why, and dead-lettered once — reconciliation
// then takes that fallback as current; an agent with enable_script_checks takes the whole body; a
// refusal of the body itself leaves the service bare.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { fallbackFor, refusedCheckId } from "../handler/apply.ts";
import { ConsulError, isRetryable } from "../consul/client.ts";
import { stamped } from "../mapping/fingerprint.ts";
import { healthCheckId } from "../mapping/health-check.ts";
import { servicesFor } from "../mapping/services-for.ts";
import { OWNER_META } from "../mapping/meta.ts";
import { readNode, repairNode } from "../handler/repair.ts";
import { event, ID_A, publish, settings } from "./builders.ts";
import type { ConsulDouble } from "./consul-double/index.ts";
import { checksOf, closeAll, setup } from "./unit-agent-answers-fixture.ts";

after(closeAll);

const SCRIPTS_DISABLED = "Scripts are disabled on this agent from remote calls; to enable, configure 'enable_script_checks' to true";

const registers = (d: ConsulDouble) => d.requests.filter((r) => r.path === "/v1/agent/service/register");

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
});
