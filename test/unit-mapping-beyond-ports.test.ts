// Beyond registrator (issue 14), ports, names and addresses: per-container address modes and
// SERVICE_ADDRESS, dual stack, port ranges and per-protocol keys, SERVICE_PORT and several names,
// the -<port> suffix switch. One table per row of the table (see unit-mapping-beyond).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { MappingSettings } from "../mapping/settings.ts";
import type { Container } from "../schemas/index.ts";
import { expose, publish } from "./builders.ts";
import { ID12, map, table, warned } from "./beyond-table.ts";

describe("mapping beyond registrator: ports, names, addresses", () => {
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
      ["8000 rtp ", "8005 ctl ", "9000 web-9000 "],
      "a range name is each of the range's ports' own name; a single port's key beats it",
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

  test("beyond - a range's name is a per-port name: each port of the range one instance of one service (#183, #198, #244)", () => {
    const ports = publish("8000:8000", "8001:8001", "9000:9000");
    const range = { "SERVICE_8000-8001_NAME": "api" };
    const id = (port: number) => `node3:svc4:${ID12}:${port}`;
    const rows = (container: Partial<Container>, s: Partial<MappingSettings> = {}) =>
      map(container, s).services.map((svc) => `${svc.Name} ${svc.ID}`);
    const cases: [string, Partial<Container>, Partial<MappingSettings>, string[]][] = [
      [
        "the range's ports share the name, each with its own ID; another port keeps the suffix rule",
        { ports, env: range },
        {},
        [`api ${id(8000)}`, `api ${id(8001)}`, `web-9000 ${id(9000)}`],
      ],
      [
        "a single port's name beats the range's",
        { ports, env: range, labels: { SERVICE_8001_NAME: "admin" } },
        {},
        [`api ${id(8000)}`, `admin ${id(8001)}`, `web-9000 ${id(9000)}`],
      ],
      [
        "SERVICE_NAME_SUFFIX=always still adds the suffix",
        { ports, env: { ...range, SERVICE_NAME_SUFFIX: "always" } },
        {},
        [`api-8000 ${id(8000)}`, `api-8001 ${id(8001)}`, `web-9000 ${id(9000)}`],
      ],
      [
        "BERTH_NAME_SUFFIX=always still adds the suffix",
        { ports, env: range },
        { nameSuffix: "always" },
        [`api-8000 ${id(8000)}`, `api-8001 ${id(8001)}`, `web-9000 ${id(9000)}`],
      ],
      [
        "a generic SERVICE_NAME on several ports keeps the suffix (registrator's rule)",
        { ports, env: { SERVICE_NAME: "api" } },
        {},
        [`api-8000 ${id(8000)}`, `api-8001 ${id(8001)}`, `api-9000 ${id(9000)}`],
      ],
      [
        "a range's SERVICE_ID keeps its per-port suffix: IDs stay unique",
        { ports: publish("8000:8000", "8001:8001"), env: { ...range, "SERVICE_8000-8001_ID": "api" } },
        {},
        ["api api:8000", "api api:8001"],
      ],
    ];
    for (const [why, container, s, expected] of cases) assert.deepEqual(rows(container, s), expected, why);
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
});
