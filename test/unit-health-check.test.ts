// Docker HEALTHCHECK → a Consul TTL check per service, its status set after each registration.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { applyToAgent } from "../handler/apply.ts";
import { HEALTH_CHECK_TTL, consulStatusOf, healthCheckId } from "../mapping/health-check.ts";
import { servicesFor } from "../mapping/services-for.ts";
import { container, event, memoryAgent, settings } from "./builders.ts";

const ttlChecksOf = (e: ReturnType<typeof event>, s = settings()) =>
  servicesFor(e, s).services.map((svc) => (svc.Checks ?? []).filter((c) => c.TTL === HEALTH_CHECK_TTL));

describe("health check", () => {
  test("health check - a container with a Docker health check gets a TTL check with a deterministic ID on each service", () => {
    const e = event({
      container: {
        health: "starting",
        ports: [
          { containerPort: 80, protocol: "tcp", hostPort: 8080 },
          { containerPort: 443, protocol: "tcp", hostPort: 8443 },
        ],
      },
    });
    const services = servicesFor(e, settings()).services;
    assert.equal(services.length, 2);
    for (const svc of services) {
      const checks = (svc.Checks ?? []).filter((c) => c.CheckID === healthCheckId(svc.ID));
      assert.equal(checks.length, 1, svc.ID);
      assert.equal(checks[0]?.TTL, HEALTH_CHECK_TTL);
    }
    assert.equal(healthCheckId("node3:web:abc:80"), "berth-health:node3:web:abc:80");
  });

  test("health check - without a Docker health check there is no TTL check", () => {
    assert.deepEqual(ttlChecksOf(event({ container: { health: "none" } })), [[]]);
    assert.deepEqual(ttlChecksOf(event({ container: {} })), [[]]);
  });

  test("health check - the registered body does not change with the health status, so a flip does not re-register", () => {
    const body = (health: "starting" | "healthy" | "unhealthy") => servicesFor(event({ container: { health } }), settings()).services;
    assert.deepEqual(body("healthy"), body("starting"));
    assert.deepEqual(body("unhealthy"), body("starting"));
  });

  test("health check - SERVICE_CHECK_* checks stay, the TTL check comes after them", () => {
    const [svc] = servicesFor(
      event({ container: { health: "healthy", env: { SERVICE_NAME: "web", SERVICE_CHECK_TCP: "true" } } }),
      settings(),
    ).services;
    assert.ok(svc?.Check?.TCP, "the TCP check is kept");
    assert.deepEqual(
      svc.Checks?.map((c) => c.CheckID),
      [healthCheckId(svc.ID)],
    );
  });

  test("health check - healthy → passing, unhealthy → critical, starting → the configured initial status", () => {
    const of = (health: "starting" | "healthy" | "unhealthy" | "none", initial: "passing" | "warning" | "critical" = "critical") =>
      consulStatusOf(container({ health }), initial);
    assert.deepEqual(
      [of("healthy"), of("unhealthy"), of("starting"), of("starting", "warning"), of("none")],
      ["passing", "critical", "critical", "warning", undefined],
    );
  });

  test("health check - applying sets each TTL check's status after registering its service", async () => {
    const agent = memoryAgent();
    const e = event({ container: { health: "healthy" } });
    await applyToAgent(agent, e, settings());
    const [id] = servicesFor(e, settings()).services.map((s) => s.ID);
    assert.deepEqual(
      agent.calls.filter((c) => !c.startsWith("services")),
      [`register ${id}`, `update ${healthCheckId(id!)} passing`],
    );
  });

  test("health check - an unchanged service is not registered again, but its check still follows Docker", async () => {
    const agent = memoryAgent();
    await applyToAgent(agent, event({ container: { health: "healthy" } }), settings());
    agent.calls.length = 0;
    await applyToAgent(
      agent,
      event({ type: "io.berth.container.health", timeNano: 1_700_000_000_000_000_001n, container: { health: "unhealthy" } }),
      settings(),
    );
    assert.deepEqual(
      agent.calls.filter((c) => !c.startsWith("services")).map((c) => c.split(" ")[0]),
      ["update"],
    );
    assert.deepEqual([...agent.checkStatus.values()], ["critical"]);
  });

  test("health check - starting uses BERTH_HEALTH_INITIAL_STATUS for the check's registration and its update", async () => {
    const agent = memoryAgent();
    await applyToAgent(agent, event({ container: { health: "starting" } }), settings({ healthInitialStatus: "warning" }));
    const [svc] = [...agent.services_.values()];
    assert.equal(svc?.Checks?.[0]?.Status, "warning");
    assert.deepEqual([...agent.checkStatus.values()], ["warning"]);
  });
});
