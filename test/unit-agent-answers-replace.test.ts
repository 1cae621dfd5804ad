// What a real Consul agent answers around berth's calls (issue 12), through the handler's own path
// against the agent double (test/unit-agent-answers-fixture.ts): replace-existing-checks, so a reused
// SERVICE_ID keeps none of the old container's checks; and an agent that ignores ?filter= (before
// Consul 1.5) still has berth touch only the services it owns.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { applyToAgent } from "../handler/apply.ts";
import type { AgentClient } from "../consul/client.ts";
import { healthCheckId } from "../mapping/health-check.ts";
import { OWNER_META } from "../mapping/meta.ts";
import { event, ID_B, settings } from "./builders.ts";
import { checksOf, closeAll, setup } from "./unit-agent-answers-fixture.ts";

after(closeAll);

describe("agent answers", () => {
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
});
