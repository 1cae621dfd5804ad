// Beyond registrator (issue 14): one table per row of the table, each case a container's
// keys → the registration body berth sends. This file: Connect, tag override, weights, check fields;
// ports, names and addresses: unit-mapping-beyond-ports; Swarm tasks: unit-mapping-swarm. Real
// containers: test/mapping-docker-beyond.test.ts, test/mapping-swarm.test.ts; the sidecar's life in
// the agent: test/unit-connect-sidecar.test.ts.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ID_A } from "./builders.ts";
import { OWN, map, only, table, warned } from "./beyond-table.ts";

describe("mapping beyond registrator", () => {
  test("beyond - Consul Connect sidecar and upstreams, Connect native (gliderlabs/registrator#630, #664, #680)", () => {
    const sidecarMeta = { berth_node: "node3", berth_sidecar_of: ID_A };
    table([
      [
        "SERVICE_CONNECT=sidecar",
        { env: { SERVICE_NAME: "web", SERVICE_CONNECT: "sidecar" } },
        { Meta: { berth_sidecar: "true", ...OWN }, Connect: { SidecarService: { Meta: sidecarMeta } } },
      ],
      [
        "upstreams name:port, and the service's own Meta on the sidecar",
        { env: { SERVICE_CONNECT: "sidecar", SERVICE_CONNECT_UPSTREAMS: "db:9191, cache:9192", SERVICE_TEAM: "a" } },
        {
          Connect: {
            SidecarService: {
              Meta: { team: "a", ...sidecarMeta },
              Proxy: {
                Upstreams: [
                  { DestinationName: "db", LocalBindPort: 9191 },
                  { DestinationName: "cache", LocalBindPort: 9192 },
                ],
              },
            },
          },
        },
      ],
      ["per port", { env: { SERVICE_8080_CONNECT: "sidecar" } }, { Meta: { berth_sidecar: "true", ...OWN } }],
      ["SERVICE_CONNECT_NATIVE=true", { env: { SERVICE_CONNECT_NATIVE: "true" } }, { Connect: { Native: true }, Meta: OWN }],
      ["SERVICE_CONNECT=native", { labels: { SERVICE_CONNECT: "native" } }, { Connect: { Native: true } }],
      ["SERVICE_CONNECT=none", { env: { SERVICE_CONNECT: "none" } }, { Connect: undefined, Meta: OWN }],
      ["another port's key", { env: { SERVICE_9000_CONNECT: "sidecar" } }, { Connect: undefined }],
    ]);
    warned({ env: { SERVICE_CONNECT: "mesh" } }, /SERVICE_CONNECT="mesh" is not sidecar or native/);
    warned({ env: { SERVICE_CONNECT: "sidecar", SERVICE_CONNECT_UPSTREAMS: "db,cache:99999" } }, /"db" is not <service>:<local port/);
    warned({ env: { SERVICE_CONNECT: "sidecar", SERVICE_CONNECT_UPSTREAMS: "db:1,db:2" } }, /"db:2" repeats a service/);
    warned({ env: { SERVICE_CONNECT_UPSTREAMS: "db:1" } }, /needs SERVICE_CONNECT=sidecar/);
    warned({ env: { SERVICE_CONNECT: "sidecar", SERVICE_CONNECT_NATIVE: "1" } }, /Connect-native service needs no sidecar/);
  });

  test("beyond - EnableTagOverride (gliderlabs/registrator#347)", () => {
    table([
      ["on", { env: { SERVICE_ENABLE_TAG_OVERRIDE: "true" } }, { EnableTagOverride: true }],
      ["off is not sent, so the body stays as before", { env: { SERVICE_ENABLE_TAG_OVERRIDE: "false" } }, { EnableTagOverride: undefined }],
      ["per port", { labels: { SERVICE_8080_ENABLE_TAG_OVERRIDE: "yes" } }, { EnableTagOverride: true }],
    ]);
  });

  test("beyond - Weights: passing=N,warning=N (Nomad's weights)", () => {
    table([
      ["both", { env: { SERVICE_WEIGHTS: "passing=10,warning=1" } }, { Weights: { Passing: 10, Warning: 1 } }],
      ["one, the other Consul's default 1", { env: { SERVICE_WEIGHTS: "warning=0" } }, { Weights: { Passing: 1, Warning: 0 } }],
      ["not given", {}, { Weights: undefined }],
    ]);
    for (const bad of ["passing=0", "passing=70000", "heavy", "passing=2;warning=1"]) {
      const m = map({ env: { SERVICE_WEIGHTS: bad } });
      assert.equal(m.services[0]?.Weights, undefined, bad);
      assert.match(m.warnings.join("\n"), /SERVICE_WEIGHTS=.*ignored/, bad);
    }
  });

  test("beyond - check Header, Body, TLSServerName, SuccessBeforePassing, FailuresBeforeWarning/Critical (#659, #680, consul#1184)", () => {
    const http = { SERVICE_CHECK_HTTP: "/health" };
    const check = (env: Record<string, string>) => only({ env }).Check;
    assert.deepEqual(
      check({
        ...http,
        SERVICE_CHECK_HTTP_METHOD: "POST",
        SERVICE_CHECK_HEADER: "Authorization: Bearer abc",
        SERVICE_CHECK_HEADER_X_API_KEY: "k1",
        SERVICE_CHECK_BODY: '{"ping":1}',
        SERVICE_CHECK_SUCCESS_BEFORE_PASSING: "2",
        SERVICE_CHECK_FAILURES_BEFORE_WARNING: "1",
        SERVICE_CHECK_FAILURES_BEFORE_CRITICAL: "3",
      }),
      {
        HTTP: "http://10.0.0.3:8084/health",
        Method: "POST",
        Header: { Authorization: ["Bearer abc"], "X-Api-Key": ["k1"] },
        Body: '{"ping":1}',
        Interval: "10s",
        SuccessBeforePassing: 2,
        FailuresBeforeWarning: 1,
        FailuresBeforeCritical: 3,
      },
    );
    assert.deepEqual(check({ SERVICE_CHECK_HTTPS: "/", SERVICE_CHECK_TLS_SERVER_NAME: "web.internal" }), {
      HTTP: "https://10.0.0.3:8084/",
      TLSServerName: "web.internal",
      Interval: "10s",
    });
    assert.deepEqual(check({ SERVICE_CHECK_GRPC: "1", SERVICE_CHECK_GRPC_USE_TLS: "1", SERVICE_CHECK_TLS_SERVER_NAME: "g" }), {
      GRPC: "10.0.0.3:8084",
      GRPCUseTLS: true,
      TLSServerName: "g",
      Interval: "10s",
    });
    assert.deepEqual(
      check({ SERVICE_CHECK_TTL: "30s", SERVICE_CHECK_FAILURES_BEFORE_CRITICAL: "3" }),
      { TTL: "30s" },
      "a TTL check is not probed",
    );
    assert.deepEqual(
      check({ SERVICE_CHECK_TCP: "1", SERVICE_CHECK_HEADER_X: "y" }),
      { TCP: "10.0.0.3:8084", Interval: "10s" },
      "HTTP only",
    );
    warned({ env: { ...http, SERVICE_CHECK_FAILURES_BEFORE_WARNING: "2" } }, /higher than SERVICE_CHECK_FAILURES_BEFORE_CRITICAL=0/);
    warned({ env: { ...http, SERVICE_CHECK_HEADER: "no colon" } }, /is not "Name: value"/);
    warned({ env: { ...http, SERVICE_CHECK_SUCCESS_BEFORE_PASSING: "-1" } }, /not a whole number/);
  });

  test("beyond - new keys are never Meta; unknown keys still are", () => {
    const svc = only({
      env: {
        SERVICE_WEIGHTS: "passing=2",
        SERVICE_ENABLE_TAG_OVERRIDE: "1",
        SERVICE_ADDRESS_MODE: "host",
        SERVICE_NAME_SUFFIX: "auto",
        SERVICE_CHECK_HEADER_X: "y",
        SERVICE_REGION: "eu",
      },
    });
    assert.deepEqual(svc.Meta, { region: "eu", ...OWN });
    warned({ env: { SERVICE_8080_PORT: "9000" } }, /SERVICE_<port>_PORT is not read/);
  });
});
