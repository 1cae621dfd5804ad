// Beyond registrator (issue 14): one table per row of the table, each case a container's
// keys → the registration body berth sends. Real containers: test/mapping-docker.test.ts,
// test/mapping-swarm.test.ts; the sidecar's life in the agent: test/unit-connect-sidecar.test.ts.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ServiceRegistration } from "../handler/consul.ts";
import { servicesFor, type Mapping } from "../handler/mapping.ts";
import type { MappingSettings } from "../handler/settings.ts";
import type { Container } from "../schemas/index.ts";
import { ID_A, event, expose, publish, settings } from "./builders.ts";

const ID12 = ID_A.slice(0, 12);
const OWN = { berth_node: "node3", berth_container: ID_A };
const map = (container: Partial<Container>, s: Partial<MappingSettings> = {}): Mapping => servicesFor(event({ container }), settings(s));
const only = (container: Partial<Container>, s: Partial<MappingSettings> = {}): ServiceRegistration => {
  const { services, warnings } = map(container, s);
  assert.equal(services.length, 1, JSON.stringify(services));
  assert.deepEqual(warnings, []);
  return services[0]!;
};
/** `expected`: the body's fields a case is about (undefined: the field is not sent). */
type Row = [
  what: string,
  container: Partial<Container>,
  expected: { [K in keyof ServiceRegistration]?: ServiceRegistration[K] | undefined },
  settings?: Partial<MappingSettings>,
];
/** Each case: the fields named in `expected` are exactly these (the rest of the body is svc4's). */
function table(rows: Row[]) {
  for (const [what, container, expected, s] of rows) {
    const svc = only(container, s);
    const picked = Object.fromEntries(Object.keys(expected).map((k) => [k, svc[k as keyof ServiceRegistration]]));
    assert.deepEqual(picked, expected, what);
  }
}
const warned = (container: Partial<Container>, pattern: RegExp) =>
  assert.ok(
    map(container).warnings.some((w) => pattern.test(w)),
    `${JSON.stringify(map(container).warnings)} ~ ${pattern}`,
  );

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

  test("beyond - per-container address: SERVICE_ADDRESS_MODE=host|container, SERVICE_ADDRESS (#258, #454, #480, #667, #674, #703)", () => {
    const networks = { bridge: { ipv4: "172.17.0.5" } };
    const ports = publish("8084:8080");
    table([
      [
        "container: the container's address and port",
        { networks, ports, env: { SERVICE_ADDRESS_MODE: "container" } },
        { Address: "172.17.0.5", Port: 8080 },
      ],
      [
        "host beats BERTH_INTERNAL",
        { networks, ports, labels: { SERVICE_ADDRESS_MODE: "host" } },
        { Address: "10.0.0.3", Port: 8084 },
        { internal: true },
      ],
      [
        "an explicit address is advertised as is, and checked there",
        { networks, ports, env: { SERVICE_ADDRESS: "192.0.2.10", SERVICE_CHECK_TCP: "1" } },
        { Address: "192.0.2.10", Port: 8084, Check: { TCP: "192.0.2.10:8084", Interval: "10s" } },
      ],
      ["a DNS name", { ports, env: { SERVICE_ADDRESS: "web.example.com" } }, { Address: "web.example.com" }],
      ["IPv6 in brackets", { ports, env: { SERVICE_ADDRESS: "[2001:db8::10]" } }, { Address: "2001:db8::10" }],
    ]);
    assert.deepEqual(
      map({ networks, exposedPorts: expose("9000"), ports, env: { SERVICE_9000_ADDRESS_MODE: "container" } }).services.map(
        (s) => `${s.Address}:${s.Port}`,
      ),
      ["10.0.0.3:8084", "172.17.0.5:9000"],
      "per port: an exposed port on the container's address next to a published one",
    );
    for (const bad of ["0.0.0.0", "::", "http://x", "10.0.0.1:80", "1.2.3", "-bad-"]) {
      const m = map({ env: { SERVICE_ADDRESS: bad } });
      assert.equal(m.services[0]?.Address, "10.0.0.3", bad);
      assert.match(m.warnings.join("\n"), /SERVICE_ADDRESS=.*ignored/, bad);
    }
    warned({ env: { SERVICE_ADDRESS_MODE: "bridge" } }, /SERVICE_ADDRESS_MODE="bridge" is not host or container/);
  });

  test("beyond - IPv6 dual stack: the preferred family in Address, the other in TaggedAddresses (#229, #256, #306, #321, #341, #598)", () => {
    const networks = { app: { ipv4: "10.1.0.5", ipv6: "fd00:1::5" } };
    const dual = { networks, exposedPorts: expose("80"), ports: [] };
    table([
      [
        "IPv4 preferred (default)",
        dual,
        { Address: "10.1.0.5", TaggedAddresses: { lan_ipv6: { Address: "fd00:1::5", Port: 80 } } },
        { internal: true },
      ],
      [
        "IPv6 preferred",
        dual,
        { Address: "fd00:1::5", TaggedAddresses: { lan_ipv4: { Address: "10.1.0.5", Port: 80 } } },
        { internal: true, addressFamily: "ipv6" },
      ],
      [
        "IPv6 only",
        { networks: { app: { ipv6: "fd00:1::5" } }, exposedPorts: expose("80"), ports: [] },
        { Address: "fd00:1::5", TaggedAddresses: undefined },
        { internal: true },
      ],
      [
        "published on both families' specific addresses",
        { ports: publish("127.0.0.1:8084:8080", "[::1]:8084:8080") },
        { Address: "::1", TaggedAddresses: { lan_ipv4: { Address: "127.0.0.1", Port: 8084 } } },
        { addressFamily: "ipv6" },
      ],
      [
        "an explicit SERVICE_ADDRESS has no tagged addresses",
        { ...dual, env: { SERVICE_ADDRESS: "192.0.2.1" } },
        { TaggedAddresses: undefined },
        { internal: true },
      ],
    ]);
  });

  test("beyond - port ranges and per-protocol keys (#183, #198, #244, #383, #668)", () => {
    const names = (container: Partial<Container>) => map(container).services.map((s) => `${s.Port} ${s.Name} ${s.Tags?.join(",")}`);
    assert.deepEqual(
      names({ ports: publish("8000:8000", "8005:8005", "9000:9000"), env: { SERVICE_8000_8010_NAME: "ignored", SERVICE_8000_NAME: "x" } }),
      ["8000 x ", "8005 web-8005 ", "9000 web-9000 "],
      "SERVICE_8000_8010_NAME is the per-port key 8010_name of port 8000 (registrator's grammar)",
    );
    assert.deepEqual(
      names({ ports: publish("8000:8000", "8005:8005", "9000:9000"), env: { "SERVICE_8000-8010_NAME": "rtp", SERVICE_8005_NAME: "ctl" } }),
      ["8000 rtp-8000 ", "8005 ctl ", "9000 web-9000 "],
      "a range name is a generic name for the range's ports; a single port's key beats it",
    );
    assert.deepEqual(
      names({ ports: publish("53:53", "53:53/udp"), env: { SERVICE_53_udp_NAME: "dns", SERVICE_53_tcp_TAGS: "zone-transfer" } }),
      ["53 web-53 zone-transfer", "53 dns udp"],
      "SERVICE_<port>_<proto>_<KEY> names one protocol of the port",
    );
    assert.deepEqual(
      names({ ports: publish("53:53/udp"), env: { SERVICE_53_NAME: "port", SERVICE_53_UDP_NAME: "proto" } }),
      ["53 proto udp"],
      "the protocol form beats the plain port form, whatever its case",
    );
    assert.deepEqual(
      names({ ports: publish("7000:7000/udp"), env: { "SERVICE_7000-7999_udp_TAGS": "media", "SERVICE_6000-8000_TAGS": "wide" } }),
      ["7000 web media,udp"],
    );
  });

  test("beyond - SERVICE_PORT for a port that is not exposed, several names on one port (#38, #77, #328, #576, #653)", () => {
    const networks = { bridge: { ipv4: "172.17.0.5" } };
    table([
      [
        "SERVICE_PORT: on the container's address",
        { networks, ports: [], env: { SERVICE_PORT: "9000" } },
        { Address: "172.17.0.5", Port: 9000 },
      ],
      ["a UDP one", { networks, ports: [], labels: { SERVICE_PORT: "5353/udp" } }, { Port: 5353, Tags: ["udp"] }],
      ["a published port it names stays on the host's", { env: { SERVICE_PORT: "8080" } }, { Address: "10.0.0.3", Port: 8084 }],
    ]);
    const { services, skipped } = map({ networks, ports: [], env: { SERVICE_PORT: "9000,x", SERVICE_NAME: "a,b" } });
    assert.deepEqual(
      services.map((s) => [s.ID, s.Name, s.Port]),
      [
        [`node3:svc4:${ID12}:9000:a`, "a", 9000],
        [`node3:svc4:${ID12}:9000:b`, "b", 9000],
      ],
      "SERVICE_NAME=a,b: one service per name, each ID naming it",
    );
    assert.deepEqual(skipped, [{ reason: 'SERVICE_PORT: "x" is not a port such as 9000 or 53/udp' }]);
    assert.deepEqual(
      map({ ports: publish("1:80", "2:443"), env: { SERVICE_80_NAME: "http,www", SERVICE_ID: "site" } }).services.map((s) => [
        s.ID,
        s.Name,
      ]),
      [
        ["site:80:http", "http"],
        ["site:80:www", "www"],
        ["site:443", "web-443"],
      ],
    );
  });

  test("beyond - the -<port> name suffix: a switch, and ignored ports do not count (#252, #270, #311, #417, #428, #492)", () => {
    const ports = publish("8080:80", "8443:443");
    const names = (env: Record<string, string>, s: Partial<MappingSettings> = {}) => map({ ports, env }, s).services.map((s) => s.Name);
    assert.deepEqual(names({ SERVICE_NAME: "api" }), ["api-80", "api-443"], "auto: registrator's");
    assert.deepEqual(names({ SERVICE_NAME: "api", SERVICE_NAME_SUFFIX: "never" }), ["api", "api"]);
    assert.deepEqual(names({ SERVICE_NAME: "api" }, { nameSuffix: "never" }), ["api", "api"], "BERTH_NAME_SUFFIX");
    assert.deepEqual(names({ SERVICE_80_NAME: "http", SERVICE_NAME_SUFFIX: "always" }), ["http-80", "web-443"]);
    assert.deepEqual(names({ SERVICE_443_NAME_SUFFIX: "never" }), ["web-80", "web"], "per port");
    assert.deepEqual(map({ ports: publish("8080:80"), env: {} }, { nameSuffix: "always" }).services[0]?.Name, "web-80");
    assert.deepEqual(names({ SERVICE_443_IGNORE: "1" }), ["web"], "an ignored port does not count");
    assert.deepEqual(names({ SERVICE_443_NAME: "tls" }, { explicit: true }), ["tls"], "nor one BERTH_EXPLICIT skips");
    warned({ env: { SERVICE_NAME_SUFFIX: "sometimes" } }, /SERVICE_NAME_SUFFIX="sometimes" is not auto, always or never/);
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
