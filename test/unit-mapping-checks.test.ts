// SERVICE_CHECK_* → Consul checks (registrator.md §2.2 table, §2.3 "after the type is chosen").
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Container } from "../schemas/index.ts";
import { checksFor, type CheckTarget } from "../mapping/checks.ts";
import { servicesFor } from "../mapping/services-for.ts";
import { keysForPort } from "../mapping/service-keys.ts";
import { ID_A, container, event, publish, settings } from "./builders.ts";

const TARGET: CheckTarget = { host: "10.0.0.3", port: 8084, containerId: ID_A, containerPort: 8080 };

function checks(env: Record<string, string>, target: Partial<CheckTarget> = {}) {
  const warnings: string[] = [];
  const found = checksFor(keysForPort(container({ env }), 8080), { ...TARGET, ...target }, (w) => void warnings.push(w));
  return { ...found, warnings };
}

describe("mapping checks", () => {
  test("mapping checks - one key, one Check (registrator §2.2 examples)", () => {
    const cases: [Record<string, string>, object][] = [
      [{ SERVICE_CHECK_HTTP: "/health" }, { HTTP: "http://10.0.0.3:8084/health", Interval: "10s" }],
      [
        { SERVICE_CHECK_HTTP: "/h", SERVICE_CHECK_HTTP_METHOD: "HEAD" },
        { HTTP: "http://10.0.0.3:8084/h", Method: "HEAD", Interval: "10s" },
      ],
      [
        { SERVICE_CHECK_HTTPS: "/h", SERVICE_CHECK_HTTPS_METHOD: "POST" },
        { HTTP: "https://10.0.0.3:8084/h", Method: "POST", Interval: "10s" },
      ],
      [{ SERVICE_CHECK_TCP: "true" }, { TCP: "10.0.0.3:8084", Interval: "10s" }],
      [{ SERVICE_CHECK_GRPC: "true" }, { GRPC: "10.0.0.3:8084", Interval: "10s" }],
      [
        { SERVICE_CHECK_GRPC: "1", SERVICE_CHECK_GRPC_USE_TLS: "1" },
        { GRPC: "10.0.0.3:8084", GRPCUseTLS: true, Interval: "10s" },
      ],
      [
        { SERVICE_CHECK_GRPC: "1", SERVICE_CHECK_GRPC_USE_TLS: "1", SERVICE_CHECK_TLS_SKIP_VERIFY: "1" },
        { GRPC: "10.0.0.3:8084", GRPCUseTLS: true, TLSSkipVerify: true, Interval: "10s" },
      ],
      [{ SERVICE_CHECK_TTL: "30s" }, { TTL: "30s" }],
      [{ SERVICE_CHECK_CMD: "/bin/check" }, { Args: ["check-cmd", ID_A.slice(0, 12), "8080", "/bin/check"], Interval: "10s" }],
      [
        { SERVICE_CHECK_HTTP: "/", SERVICE_CHECK_INTERVAL: "15s", SERVICE_CHECK_TIMEOUT: "2s" },
        { HTTP: "http://10.0.0.3:8084/", Interval: "15s", Timeout: "2s" },
      ],
      [{ SERVICE_CHECK_TTL: "30s", SERVICE_CHECK_INTERVAL: "5s", SERVICE_CHECK_TIMEOUT: "1s" }, { TTL: "30s" }],
      [
        { SERVICE_CHECK_TCP: "1", SERVICE_CHECK_INITIAL_STATUS: "passing" },
        { TCP: "10.0.0.3:8084", Interval: "10s", Status: "passing" },
      ],
      [
        { SERVICE_CHECK_TTL: "1m", SERVICE_CHECK_DEREGISTER_AFTER: "90m" },
        { TTL: "1m", DeregisterCriticalServiceAfter: "90m" },
      ],
    ];
    for (const [env, check] of cases) assert.deepEqual(checks(env), { Check: check, warnings: [] }, JSON.stringify(env));
  });

  test("mapping checks - the HTTP path is appended verbatim", () => {
    assert.equal(checks({ SERVICE_CHECK_HTTP: "?probe=1" }).Check?.HTTP, "http://10.0.0.3:8084?probe=1");
  });

  test("mapping checks - SERVICE_CHECK_SCRIPT replaces $SERVICE_IP and $SERVICE_PORT and runs through sh -c", () => {
    const { Check } = checks({ SERVICE_CHECK_SCRIPT: "nc -z $SERVICE_IP $SERVICE_PORT && echo ok" });
    assert.deepEqual(Check, { Args: ["sh", "-c", "nc -z 10.0.0.3 8084 && echo ok"], Interval: "10s" });
  });

  test("mapping checks - no check key, no check: status, interval and deregister-after alone do nothing", () => {
    assert.deepEqual(
      checks({ SERVICE_CHECK_INITIAL_STATUS: "passing", SERVICE_CHECK_INTERVAL: "5s", SERVICE_CHECK_DEREGISTER_AFTER: "1m" }),
      { warnings: [] },
    );
  });

  test("mapping checks - each check kind asked for becomes one of Checks, in registrator's precedence order", () => {
    const { Checks, Check } = checks({
      SERVICE_CHECK_TCP: "1",
      SERVICE_CHECK_HTTP: "/",
      SERVICE_CHECK_TTL: "1m",
      SERVICE_CHECK_INITIAL_STATUS: "warning",
    });
    assert.equal(Check, undefined);
    assert.deepEqual(Checks, [
      { HTTP: "http://10.0.0.3:8084/", Interval: "10s", Status: "warning" },
      { TTL: "1m", Status: "warning" },
      { TCP: "10.0.0.3:8084", Interval: "10s", Status: "warning" },
    ]);
  });

  test("mapping checks - invalid durations and statuses are dropped with a warning, the check stays", () => {
    const found = checks({
      SERVICE_CHECK_HTTP: "/",
      SERVICE_CHECK_INTERVAL: "often",
      SERVICE_CHECK_TIMEOUT: "0s",
      SERVICE_CHECK_INITIAL_STATUS: "ok",
    });
    assert.deepEqual(found.Check, { HTTP: "http://10.0.0.3:8084/", Interval: "10s" });
    assert.equal(found.warnings.length, 3);
    const ttl = checks({ SERVICE_CHECK_TTL: "soon" });
    assert.deepEqual([ttl.Check, ttl.warnings.length], [undefined, 1]);
  });

  test("mapping checks - without a known address a check targets 127.0.0.1, with a warning", () => {
    const found = checks({ SERVICE_CHECK_TCP: "1" }, { host: undefined });
    assert.equal(found.Check?.TCP, "127.0.0.1:8084");
    assert.equal(found.warnings.length, 1);
  });

  test("mapping checks - a check follows its service's address and port (internal mode: the container's)", () => {
    const c: Partial<Container> = {
      ports: publish("8084:8080"),
      networks: { bridge: { ipv4: "172.17.0.5" } },
      networkMode: "bridge",
      env: { SERVICE_CHECK_HTTP: "/" },
    };
    assert.equal(servicesFor(event({ container: c }), settings()).services[0]?.Check?.HTTP, "http://10.0.0.3:8084/");
    assert.equal(servicesFor(event({ container: c }), settings({ internal: true })).services[0]?.Check?.HTTP, "http://172.17.0.5:8080/");
  });
});
