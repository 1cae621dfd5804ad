// Contract tests for the Consul agent HTTP API that berth relies on. They run against the
// in-process double by default, and against a real agent when CONSUL_HTTP_ADDR is set
// (CONSUL_HTTP_TOKEN is sent when set). Every test uses IDs unique to this run and removes
// what it registered. The source of truth is /work/shared/consul-agent-api.md.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import { connect as netConnect, type AddressInfo } from "node:net";
import { networkInterfaces } from "node:os";
import { after, before, describe, test, type TestContext } from "node:test";
import { enc, eventually, keysOf, openTarget, type Target } from "./consul-double/contract-kit.ts";
import { startConsulDouble, type AgentCheck, type AgentService, type ConsulDouble } from "./consul-double/index.ts";

const REAL = !!process.env.CONSUL_HTTP_ADDR;
const doubleOnly = REAL ? "needs the double's own configuration (CONSUL_HTTP_ADDR is set)" : false;
const TEXT = "text/plain; charset=utf-8";
const AGENT_SERVICE_KEYS = ["ID", "Service", "Tags", "Meta", "Port", "Address", "Weights", "EnableTagOverride", "Datacenter"];
const CHECK_KEYS = [
  "Node",
  "CheckID",
  "Name",
  "Status",
  "Notes",
  "Output",
  "ServiceID",
  "ServiceName",
  "ServiceTags",
  "Type",
  "Interval",
  "Timeout",
  "ExposedPort",
  "Definition",
  "CreateIndex",
  "ModifyIndex",
];

let t0: Target;
let dc = "dc1";
let nodeName = "node1";
const extraDoubles: ConsulDouble[] = [];

before(async () => {
  t0 = await openTarget();
  const self = (await t0.get("/v1/agent/self")).json() as { Config: { Datacenter: string; NodeName: string } };
  dc = self.Config.Datacenter;
  nodeName = self.Config.NodeName;
});
after(async () => {
  // t0 is unset when before() failed in openTarget(); after() runs all the same.
  await Promise.all([(t0 as Target | undefined)?.close(), ...extraDoubles.map((d) => d.close())]);
});

let seq = 0;
/** A unique service name for this run; registered services are deregistered after the test. */
function name(t: TestContext, label: string): string {
  const id = `berth-ct-${t0.run}-${label}-${++seq}`;
  t.after(async () => {
    await t0.put(`/v1/agent/service/deregister/${enc(id)}`);
  });
  return id;
}
async function register(body: Record<string, unknown>, query = ""): Promise<void> {
  const res = await t0.put(`/v1/agent/service/register${query}`, body);
  assert.equal(res.status, 200, res.text);
}
const services = async () => (await t0.get("/v1/agent/services")).json() as Record<string, AgentService>;
const checks = async () => (await t0.get("/v1/agent/checks")).json() as Record<string, AgentCheck>;
const check = async (id: string) => (await checks())[id];
type HealthEntry = { Node: Record<string, unknown>; Service: Record<string, unknown>; Checks: AgentCheck[] };

describe("consul agent contract", () => {
  test("register - success is 200 with an empty body and no Content-Type", async (t) => {
    const res = await t0.put("/v1/agent/service/register", { Name: name(t, "ok"), Port: 8080 });
    assert.equal(res.status, 200);
    assert.equal(res.text, "");
    assert.equal(res.headers.get("content-type"), null);
    assert.match(res.headers.get("x-consul-default-acl-policy") ?? "", /^(allow|deny)$/);
  });

  test("services - a minimal registration has the documented shape and key order", async (t) => {
    const id = name(t, "shape");
    await register({ Name: id, Port: 8080 });
    const res = await t0.get("/v1/agent/services");
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.equal(res.headers.get("x-consul-index"), null);
    const svc = (res.json() as Record<string, AgentService>)[id];
    assert.deepEqual(keysOf(svc), AGENT_SERVICE_KEYS);
    assert.deepEqual(svc, {
      ID: id,
      Service: id,
      Tags: [],
      Meta: {},
      Port: 8080,
      Address: "",
      Weights: { Passing: 1, Warning: 1 },
      EnableTagOverride: false,
      Datacenter: dc,
    });
  });

  test("services - an IP Address gets lan_ipv4/wan_ipv4 tagged addresses", async (t) => {
    const id = name(t, "tagged");
    await register({ Name: id, Address: "10.0.0.5", Port: 8080 });
    const svc = (await services())[id];
    assert.deepEqual(svc?.TaggedAddresses, {
      lan_ipv4: { Address: "10.0.0.5", Port: 8080 },
      wan_ipv4: { Address: "10.0.0.5", Port: 8080 },
    });
    assert.deepEqual(keysOf(svc), [
      "ID",
      "Service",
      "Tags",
      "Meta",
      "Port",
      "Address",
      "TaggedAddresses",
      "Weights",
      "EnableTagOverride",
      "Datacenter",
    ]);
  });

  test("register - keys are case-insensitive, snake aliases work, null means absent, durations parse", async (t) => {
    const id = name(t, "decode");
    const body = {
      name: id,
      PORT: 81,
      tags: ["a"],
      enable_tag_override: true,
      Weights: null,
      Checks: null,
      check: { ttl: 30e9, CheckID: `${id}-ttl` },
    };
    await register(body);
    const svc = (await services())[id];
    assert.equal(svc?.Port, 81);
    assert.deepEqual(svc.Tags, ["a"]);
    assert.equal(svc.EnableTagOverride, true);
    assert.deepEqual(svc.Weights, { Passing: 1, Warning: 1 });
    assert.equal((await check(`${id}-ttl`))?.Type, "ttl");
  });

  test("register - decode failures are 400 with Go's error text", async (t) => {
    const id = name(t, "bad-body");
    const cases: Array<[string, string]> = [
      [JSON.stringify({ Name: id, Foo: 1 }), 'Request decode failed: json: unknown field "Foo"'],
      ["", "Request decode failed: EOF"],
      ['{"Name":', "Request decode failed: unexpected EOF"],
      ["xyz", "Request decode failed: invalid character 'x' looking for beginning of value"],
      [JSON.stringify({ Name: id, Namespace: "default" }), 'Request decode failed: json: unknown field "Namespace"'],
      [JSON.stringify({ Name: id, Partition: "default" }), 'Request decode failed: json: unknown field "Partition"'],
      [JSON.stringify({ Name: id, Check: { TTL: "abc" } }), 'Request decode failed: time: invalid duration "abc"'],
      [JSON.stringify({ Name: id, Check: { TTL: "10" } }), 'Request decode failed: time: missing unit in duration "10"'],
      [JSON.stringify({ Name: id, Check: { check_id: "x", TTL: "10s" } }), 'Request decode failed: json: unknown field "check_id"'],
      [JSON.stringify({ Name: id, Check: { ID: "x", TTL: "10s" } }), 'Request decode failed: json: unknown field "ID"'],
      [
        JSON.stringify({ Name: id, Check: { Script: "/bin/true", Interval: "10s" } }),
        'Request decode failed: json: unknown field "Script"',
      ],
    ];
    for (const [body, expected] of cases) {
      const res = await t0.put("/v1/agent/service/register", body);
      assert.deepEqual([res.status, res.text], [400, expected], body);
      assert.equal(res.headers.get("content-type"), TEXT);
    }
    const wrongType = await t0.put("/v1/agent/service/register", { Name: id, Port: "80" });
    assert.equal(wrongType.status, 400);
    assert.ok(wrongType.text.startsWith("Request decode failed: json: cannot unmarshal string into Go struct field "), wrongType.text);
    assert.ok(wrongType.text.endsWith("Port of type int"), wrongType.text);
    assert.equal((await services())[id], undefined);
  });

  test("register - validation failures come in Consul's order with exact texts", async (t) => {
    const id = name(t, "invalid");
    const longMeta = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"]));
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ Port: 1, Meta: { "consul-x": "v" } }, "Missing service name"],
      [{ Name: id, Address: "0.0.0.0", Weights: { Passing: 0 } }, "Invalid service address"],
      [{ Name: id, Address: "::" }, "Invalid service address"],
      [{ Name: id, Weights: { Passing: 0 }, Meta: { "consul-x": "v" } }, "Invalid Weights: Passing must be greater than 0"],
      [{ Name: id, Weights: { Passing: 1, Warning: -1 } }, "Invalid Weights: Warning must be greater or equal than 0"],
      [{ Name: id, Weights: { Passing: 70000, Warning: 1 } }, "Invalid Weights: DNS Weight must be between 0 and 65535"],
      [
        { Name: id, Meta: { "consul-x": "v" }, Checks: [{}] },
        "Invalid Service Meta: Couldn't load metadata pair ('consul-x', 'v'): Key prefix 'consul-' is reserved for internal use",
      ],
      [
        { Name: id, Meta: { "bad key": "v" } },
        "Invalid Service Meta: Couldn't load metadata pair ('bad key', 'v'): Key contains invalid characters",
      ],
      [
        { Name: id, Meta: { k: "x".repeat(513) } },
        `Invalid Service Meta: Couldn't load metadata pair ('k', '${"x".repeat(513)}'): Value is too long (limit: 512 characters)`,
      ],
      [{ Name: id, Meta: longMeta }, "Invalid Service Meta: Node metadata cannot contain more than 64 key/value pairs"],
      [{ Name: id, Checks: [{}] }, "Invalid check: TTL must be > 0 for TTL checks"],
      [{ Name: id, Check: { TTL: "10s", Interval: "10s" } }, "Invalid check: Interval and TTL cannot both be specified"],
      [
        { Name: id, Check: { HTTP: "http://127.0.0.1:1/" } },
        "Invalid check: Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or OSService checks",
      ],
      [{ Name: id, Check: { TTL: "10s", Status: "bogus" } }, "Status for checks must 'passing', 'warning', 'critical'"],
    ];
    for (const [body, expected] of cases) {
      const res = await t0.put("/v1/agent/service/register", body);
      assert.deepEqual([res.status, res.text], [400, expected], JSON.stringify(body).slice(0, 120));
    }
    assert.equal((await services())[id], undefined);
  });

  test("register - an empty Check object is ignored", async (t) => {
    const id = name(t, "empty-check");
    await register({ Name: id, Check: {} });
    assert.deepEqual(
      Object.values(await checks()).filter((c) => c.ServiceID === id),
      [],
    );
  });

  test("register - check IDs, default names and statuses, Duration strings", async (t) => {
    const id = name(t, "checks");
    await register({ Name: id, Check: { TTL: "30s" } });
    const single = await check(`service:${id}`);
    assert.deepEqual(
      [single?.Name, single?.Status, single?.Type, single?.Interval, single?.Timeout],
      [`Service '${id}' check`, "critical", "ttl", "", ""],
    );
    await register(
      {
        Name: id,
        Check: { TTL: "30s", Status: "passing" },
        Checks: [{ HTTP: "http://127.0.0.1:1/", Interval: "60s", Timeout: "1500ms", Name: "web" }],
      },
      "?replace-existing-checks",
    );
    const all = await checks();
    assert.equal(all[`service:${id}`], undefined);
    assert.deepEqual([all[`service:${id}:1`]?.Type, all[`service:${id}:1`]?.Status], ["ttl", "passing"]);
    const http = all[`service:${id}:2`];
    assert.deepEqual([http?.Name, http?.Type, http?.Interval, http?.Timeout], ["web", "http", "1m0s", "1.5s"]);
  });

  test("checks - a TTL check has the documented shape and key order", async (t) => {
    const id = name(t, "check-shape");
    await register({ Name: id, Tags: ["v1"], Check: { TTL: "30s", Notes: "n" } });
    const c = await check(`service:${id}`);
    assert.deepEqual(keysOf(c, ["TTL"]), CHECK_KEYS);
    assert.deepEqual(
      { ...c, Node: undefined, TTL: undefined },
      {
        Node: undefined,
        CheckID: `service:${id}`,
        Name: `Service '${id}' check`,
        Status: "critical",
        Notes: "n",
        Output: "",
        ServiceID: id,
        ServiceName: id,
        ServiceTags: ["v1"],
        Type: "ttl",
        Interval: "",
        Timeout: "",
        ExposedPort: 0,
        Definition: {},
        CreateIndex: 0,
        ModifyIndex: 0,
        TTL: undefined,
      },
    );
    assert.equal(c?.Node, nodeName);
  });

  test("register - re-registration keeps check status and output; replace-existing-checks=1 is false", async (t) => {
    const id = name(t, "rereg");
    await register({
      Name: id,
      Checks: [
        { CheckID: `${id}-a`, TTL: "30s" },
        { CheckID: `${id}-b`, TTL: "30s" },
      ],
    });
    assert.equal((await t0.put(`/v1/agent/check/pass/${enc(`${id}-a`)}?note=fine`)).status, 200);
    await register(
      { Name: id, Tags: ["new"], Check: { CheckID: `${id}-a`, TTL: "30s", Status: "critical" } },
      "?replace-existing-checks=1",
    );
    const all = await checks();
    assert.deepEqual([all[`${id}-a`]?.Status, all[`${id}-a`]?.Output, all[`${id}-a`]?.ServiceTags], ["passing", "fine", ["new"]]);
    assert.ok(all[`${id}-b`], "=1 does not replace");
    await register({ Name: id, Check: { CheckID: `${id}-a`, TTL: "30s" } }, "?replace-existing-checks=true");
    assert.equal(await check(`${id}-b`), undefined);
  });

  test("register - script checks are refused with 500 and nothing remains", async (t) => {
    const id = name(t, "script");
    const res = await t0.put("/v1/agent/service/register", { Name: id, Check: { Args: ["/bin/true"], Interval: "10s" } });
    assert.deepEqual(
      [res.status, res.text],
      [500, "Scripts are disabled on this agent from remote calls; to enable, configure 'enable_script_checks' to true"],
    );
    assert.equal((await services())[id], undefined);
  });

  test("deregister - removes the service and its checks, then 404 with the exact text", async (t) => {
    const id = name(t, "dereg");
    await register({ Name: id, Check: { TTL: "30s" } });
    const first = await t0.put(`/v1/agent/service/deregister/${enc(id)}`);
    assert.deepEqual([first.status, first.text], [200, ""]);
    assert.equal((await services())[id], undefined);
    assert.equal(await check(`service:${id}`), undefined);
    const second = await t0.put(`/v1/agent/service/deregister/${enc(id)}`);
    assert.deepEqual(
      [second.status, second.text],
      [404, `Unknown service ID "${id}". Ensure that the service ID is passed, not the service name.`],
    );
    assert.equal(second.headers.get("content-type"), TEXT);
  });

  test("sidecar - Connect.SidecarService: the agent registers <id>-sidecar-proxy with its defaults, and removes it with the service", async (t) => {
    const id = name(t, "mesh");
    const sidecarId = `${id}-sidecar-proxy`;
    const upstream = { DestinationName: "db", LocalBindPort: 9191 };
    const body = { ID: id, Name: id, Port: 8080, Address: "10.0.0.5", Tags: ["a"], Meta: { team: "x" } };
    await register({ ...body, Connect: { SidecarService: { Proxy: { Upstreams: [upstream] } } } });
    const all = await services();
    const sidecar = all[sidecarId] as (AgentService & { Proxy: Record<string, unknown> }) | undefined;
    assert.deepEqual(
      all[id] && [all[id].Kind, (all[id] as { Connect?: unknown }).Connect],
      [undefined, undefined],
      "the sugar is not kept",
    );
    assert.ok(sidecar, "the sidecar is registered");
    assert.deepEqual(
      [sidecar.Kind, sidecar.Service, sidecar.Tags, sidecar.Meta, sidecar.Address],
      ["connect-proxy", sidecarId, ["a"], { team: "x" }, "10.0.0.5"],
      "kind, name, tags and Meta copied, address inherited",
    );
    assert.ok(sidecar.Port >= 21000 && sidecar.Port <= 21255, `a port of the sidecar range: ${sidecar.Port}`);
    const { DestinationServiceName, DestinationServiceID, LocalServiceAddress, LocalServicePort } = sidecar.Proxy;
    assert.deepEqual([DestinationServiceName, DestinationServiceID, LocalServiceAddress, LocalServicePort], [id, id, "127.0.0.1", 8080]);
    assert.deepEqual(
      (sidecar.Proxy["Upstreams"] as Record<string, unknown>[]).map((u) => [u["DestinationName"], u["LocalBindPort"]]),
      [["db", 9191]],
    );
    const sidecarChecks = Object.values(await checks()).filter((c) => c.ServiceID === sidecarId);
    assert.deepEqual(sidecarChecks.map((c) => [c.Name, c.Type]).sort(), [
      [`Connect Sidecar Aliasing ${id}`, "alias"],
      ["Connect Sidecar Listening", "tcp"],
    ]);
    await register({ ...body, Connect: { SidecarService: { Meta: { own: "1" } } } });
    const again = (await services())[sidecarId];
    assert.deepEqual([again?.Meta, again?.Port], [{ own: "1" }, sidecar.Port], "its own Meta instead of the copy; the same port");
    for (const [nested, status, text] of [
      [{ ID: "x" }, 400, /^Validation failed: .*A SidecarService cannot specify an ID as this is managed by the agent/s],
      [{ Meta: { "consul-x": "1" } }, 400, /^Invalid SidecarService: .*Key prefix 'consul-' is reserved for internal use$/],
      [{ Port: "x" }, 400, /^Request decode failed: json: cannot unmarshal string into Go struct field .*Port of type int$/],
    ] as const) {
      const res = await t0.put("/v1/agent/service/register", { ...body, Connect: { SidecarService: nested } });
      assert.equal(res.status, status, res.text);
      assert.match(res.text, text);
    }
    await t0.put(`/v1/agent/service/deregister/${enc(id)}`);
    assert.deepEqual(
      Object.keys(await services()).filter((k) => k.startsWith(id)),
      [],
      "the sidecar goes with its service",
    );
  });

  test("service - one service carries ContentHash in body and header; unknown ID is 404", async (t) => {
    const id = name(t, "single");
    await register({ Name: id, Port: 9 });
    const res = await t0.get(`/v1/agent/service/${enc(id)}`);
    const svc = res.json() as AgentService;
    assert.ok(svc.ContentHash);
    assert.equal(res.headers.get("x-consul-contenthash"), svc.ContentHash);
    assert.deepEqual(keysOf(svc), [
      "ID",
      "Service",
      "Tags",
      "Meta",
      "Port",
      "Address",
      "Weights",
      "EnableTagOverride",
      "ContentHash",
      "Datacenter",
    ]);
    const missing = await t0.get(`/v1/agent/service/${enc(id)}-nope`);
    assert.deepEqual([missing.status, missing.text], [404, `unknown service ID: ${id}-nope`]);
  });

  test("service - hash blocking honours wait and returns early on change", async (t) => {
    const id = name(t, "hash");
    await register({ Name: id, Port: 9 });
    const hash = ((await t0.get(`/v1/agent/service/${enc(id)}`)).json() as AgentService).ContentHash ?? "";
    let start = Date.now();
    const idle = await t0.get(`/v1/agent/service/${enc(id)}?hash=${hash}&wait=1s`);
    assert.ok(Date.now() - start >= 900, "waited");
    assert.equal((idle.json() as AgentService).ContentHash, hash);
    start = Date.now();
    const pending = t0.get(`/v1/agent/service/${enc(id)}?hash=${hash}&wait=10s`);
    await t0.inFlight(`hash=${hash}&wait=10s`);
    await register({ Name: id, Port: 10 });
    const changed = await pending;
    assert.ok(Date.now() - start < 5000, "returned early");
    assert.notEqual((changed.json() as AgentService).ContentHash, hash);
    assert.equal((changed.json() as AgentService).Port, 10);
  });

  test("check - pass/warn/fail set status and note; unknown IDs are 404", async (t) => {
    const id = name(t, "pwf");
    await register({ Name: id, Check: { TTL: "30s" } });
    const cid = `service:${id}`;
    for (const [verb, status] of [
      ["pass", "passing"],
      ["warn", "warning"],
      ["fail", "critical"],
    ] as const) {
      const res = await t0.put(`/v1/agent/check/${verb}/${enc(cid)}?note=${verb}-note`);
      assert.deepEqual([res.status, res.text], [200, ""]);
      const c = await check(cid);
      assert.deepEqual([c?.Status, c?.Output], [status, `${verb}-note`]);
    }
    await t0.put(`/v1/agent/check/pass/${enc(cid)}`);
    assert.equal((await check(cid))?.Output, "");
    const unknown = await t0.put(`/v1/agent/check/pass/${enc(cid)}-nope`);
    assert.deepEqual(
      [unknown.status, unknown.text],
      [404, `Unknown check ID "${cid}-nope". Ensure that the check ID is passed, not the check name.`],
    );
    const get = await t0.get(`/v1/agent/check/pass/${enc(cid)}`);
    assert.deepEqual([get.status, get.text, get.headers.get("allow")], [405, "method GET not allowed", "OPTIONS,PUT"]);
  });

  test("check update - body decoding, status validation, non-TTL 500, output truncation", async (t) => {
    const id = name(t, "update");
    await register({
      Name: id,
      Checks: [
        { CheckID: `${id}-ttl`, TTL: "30s" },
        { CheckID: `${id}-http`, HTTP: "http://127.0.0.1:1/", Interval: "30s" },
      ],
    });
    const path = `/v1/agent/check/update/${enc(`${id}-ttl`)}`;
    const cases: Array<[string, number, string]> = [
      ['{"Status":"passing","Foo":1}', 400, 'Request decode failed: json: unknown field "Foo"'],
      ["", 400, "Request decode failed: EOF"],
      ["{}", 400, "Invalid check status: ''"],
      ['{"Status":"bogus"}', 400, "Invalid check status: 'bogus'"],
      ['{"status":"warning","output":"lower-case keys"}', 200, ""],
    ];
    for (const [body, status, text] of cases) {
      const res = await t0.put(path, body);
      assert.deepEqual([res.status, res.text], [status, text], body);
    }
    assert.deepEqual([(await check(`${id}-ttl`))?.Status, (await check(`${id}-ttl`))?.Output], ["warning", "lower-case keys"]);
    const http = await t0.put(`/v1/agent/check/update/${enc(`${id}-http`)}`, { Status: "passing" });
    assert.deepEqual([http.status, http.text], [500, `CheckID "${id}-http" does not have associated TTL`]);
    await t0.put(path, { Status: "passing", Output: "a".repeat(5000) });
    assert.equal((await check(`${id}-ttl`))?.Output, `${"a".repeat(4096)} ... (captured 4096 of 5000 bytes)`);
  });

  test("ttl - expiry turns the check critical with the TTL expired output", async (t) => {
    const id = name(t, "expiry");
    await register({
      Name: id,
      Checks: [
        { CheckID: `${id}-noted`, TTL: "1s" },
        { CheckID: `${id}-silent`, TTL: "1s", Status: "passing" },
      ],
    });
    await t0.put(`/v1/agent/check/pass/${enc(`${id}-noted`)}?note=all good`);
    const done = await eventually(
      checks,
      (all) => all[`${id}-noted`]?.Status === "critical" && all[`${id}-silent`]?.Status === "critical",
      6000,
    );
    assert.deepEqual(
      [done[`${id}-noted`]?.Status, done[`${id}-noted`]?.Output],
      ["critical", "TTL expired (last output before timeout follows): all good"],
    );
    assert.equal(done[`${id}-silent`]?.Output, "TTL expired");
  });

  test("self - Config, Member and Meta carry the node's identity", async () => {
    const self = (await t0.get("/v1/agent/self")).json() as {
      Config: Record<string, unknown>;
      Member: Record<string, unknown>;
      Meta: Record<string, string>;
    };
    for (const key of ["Datacenter", "PrimaryDatacenter", "NodeName", "NodeID", "Revision", "Server", "Version", "BuildDate"])
      assert.ok(key in self.Config, key);
    assert.equal(self.Member.Name, self.Config.NodeName);
    assert.equal(typeof self.Member.Addr, "string");
    assert.equal(self.Member.Status, 1);
    assert.ok("consul-network-segment" in self.Meta);
    if (!REAL) assert.deepEqual([self.Config.NodeName, self.Config.Datacenter], ["node1", "dc1"]);
  });

  test("catalog - service nodes have the 1.17 ServiceNode shape and an index", async (t) => {
    const id = name(t, "catalog");
    await register({ Name: id, Port: 8080, Tags: ["v1"] });
    const res = await t0.get(`/v1/catalog/service/${enc(id)}`);
    assert.ok(Number(res.headers.get("x-consul-index")) >= 1);
    const [node, ...rest] = res.json() as Array<Record<string, unknown>>;
    assert.equal(rest.length, 0);
    assert.deepEqual(keysOf(node), [
      "ID",
      "Node",
      "Address",
      "Datacenter",
      "TaggedAddresses",
      "NodeMeta",
      "ServiceKind",
      "ServiceID",
      "ServiceName",
      "ServiceTags",
      "ServiceAddress",
      "ServiceWeights",
      "ServiceMeta",
      "ServicePort",
      "ServiceSocketPath",
      "ServiceEnableTagOverride",
      "ServiceProxy",
      "ServiceConnect",
      "ServiceLocality",
      "CreateIndex",
      "ModifyIndex",
    ]);
    assert.deepEqual(
      [node?.ServiceID, node?.ServiceTags, node?.ServiceAddress, node?.ServiceMeta, node?.ServicePort, node?.ServiceLocality],
      [id, ["v1"], "", {}, 8080, null],
    );
    assert.deepEqual(node?.ServiceProxy, { Mode: "", MeshGateway: {}, Expose: {} });
    const none = await t0.get(`/v1/catalog/service/${enc(id)}-nope`);
    assert.deepEqual([none.status, none.text], [200, "[]"]);
    assert.ok(Number(none.headers.get("x-consul-index")) >= 1);
    const services = (await t0.get("/v1/catalog/services")).json() as Record<string, string[]>;
    assert.deepEqual([services.consul, services[id]], [[], ["v1"]]);
  });

  test("health - entries carry serfHealth, Meta null and no Port when 0", async (t) => {
    const id = name(t, "health");
    await register({ Name: id, Check: { TTL: "30s", Status: "passing" } });
    const res = await t0.get(`/v1/health/service/${enc(id)}`);
    assert.ok(Number(res.headers.get("x-consul-index")) >= 1);
    assert.match(res.headers.get("x-consul-query-backend") ?? "", /^(blocking-query|streaming)$/);
    const [entry] = res.json() as HealthEntry[];
    assert.deepEqual(keysOf(entry?.Node, ["Partition", "PeerName", "Locality"]), [
      "ID",
      "Node",
      "Address",
      "Datacenter",
      "TaggedAddresses",
      "Meta",
      "CreateIndex",
      "ModifyIndex",
    ]);
    assert.deepEqual(keysOf(entry?.Service, ["Locality"]), [
      "ID",
      "Service",
      "Tags",
      "Address",
      "Meta",
      "Weights",
      "EnableTagOverride",
      "Proxy",
      "Connect",
      "PeerName",
      "CreateIndex",
      "ModifyIndex",
    ]);
    const { CreateIndex, ModifyIndex, ...service } = entry?.Service ?? {};
    assert.ok(Number(CreateIndex) >= 1 && Number(ModifyIndex) >= Number(CreateIndex));
    assert.deepEqual(service, {
      ID: id,
      Service: id,
      Tags: [],
      Address: "",
      Meta: null,
      Weights: { Passing: 1, Warning: 1 },
      EnableTagOverride: false,
      Proxy: { Mode: "", MeshGateway: {}, Expose: {} },
      Connect: {},
      PeerName: "",
    });
    assert.deepEqual([entry?.Node.Node, entry?.Node.Datacenter], [nodeName, dc]);
    const serf = entry?.Checks.find((c) => c.CheckID === "serfHealth");
    assert.deepEqual(
      [serf?.Name, serf?.Status, serf?.Output, serf?.ServiceID, serf?.ServiceTags],
      ["Serf Health Status", "passing", "Agent alive and reachable", "", []],
    );
    assert.deepEqual(entry?.Checks.map((c) => c.CheckID).sort(), ["serfHealth", `service:${id}`]);
  });

  test("health - ?passing drops warning and critical instances; a bad value is 400", async (t) => {
    const id = name(t, "passing");
    await register({ ID: `${id}-ok`, Name: id, Check: { TTL: "30s", Status: "passing" } });
    await register({ ID: `${id}-warn`, Name: id, Check: { TTL: "30s", Status: "warning" } });
    await register({ ID: `${id}-crit`, Name: id, Check: { TTL: "30s" } });
    t.after(async () => {
      for (const s of ["ok", "warn", "crit"]) await t0.put(`/v1/agent/service/deregister/${enc(`${id}-${s}`)}`);
    });
    const ids = async (q: string) =>
      ((await t0.get(`/v1/health/service/${enc(id)}${q}`)).json() as HealthEntry[]).map((e) => e.Service.ID).sort();
    assert.deepEqual(await ids(""), [`${id}-crit`, `${id}-ok`, `${id}-warn`]);
    assert.deepEqual(await ids("?passing"), [`${id}-ok`]);
    assert.deepEqual(await ids("?passing=false"), [`${id}-crit`, `${id}-ok`, `${id}-warn`]);
    const bad = await t0.get(`/v1/health/service/${enc(id)}?passing=yes`);
    assert.deepEqual([bad.status, bad.text], [400, "Invalid value for ?passing"]);
  });

  test("health - output-only changes reach the agent at once but the catalog later", async (t) => {
    const id = name(t, "deferred");
    await register({ Name: id, Check: { TTL: "30s", Status: "passing" } });
    await t0.put(`/v1/agent/check/pass/${enc(`service:${id}`)}?note=agent-only`);
    assert.equal((await check(`service:${id}`))?.Output, "agent-only");
    const [entry] = (await t0.get(`/v1/health/service/${enc(id)}`)).json() as HealthEntry[];
    assert.equal(entry?.Checks.find((c) => c.CheckID === `service:${id}`)?.Output, "");
  });

  test("blocking - ?index waits for a change, and a timeout keeps the index", async (t) => {
    const id = name(t, "block");
    await register({ Name: id, Check: { TTL: "30s" } });
    const first = await t0.get(`/v1/health/service/${enc(id)}`);
    const index = Number(first.headers.get("x-consul-index"));
    let start = Date.now();
    const pending = t0.get(`/v1/health/service/${enc(id)}?index=${index}&wait=10s`);
    await t0.inFlight(`index=${index}&wait=10s`);
    await t0.put(`/v1/agent/check/pass/${enc(`service:${id}`)}`);
    const woke = await pending;
    assert.ok(Date.now() - start < 5000, "returned on change");
    const next = Number(woke.headers.get("x-consul-index"));
    assert.ok(next > index, `${next} > ${index}`);
    start = Date.now();
    const idle = await t0.get(`/v1/health/service/${enc(id)}?index=${next}&wait=1s`);
    assert.ok(Date.now() - start >= 900, "waited for the timeout");
    assert.equal(Number(idle.headers.get("x-consul-index")), next);
    const badWait = await t0.get(`/v1/health/service/${enc(id)}?wait=soon`);
    assert.deepEqual([badWait.status, badWait.text], [400, "Invalid wait time"]);
    const badIndex = await t0.get(`/v1/catalog/service/${enc(id)}?index=-1`);
    assert.deepEqual([badIndex.status, badIndex.text], [400, "Invalid index"]);
  });

  test("filter - the expressions berth uses select the right services", async (t) => {
    const a = name(t, "fa");
    const b = name(t, "fb");
    await register({ Name: a, Tags: ["web", "v1"], Meta: { berth_node: "n1", run: t0.run } });
    await register({ Name: b, Tags: [], Meta: { berth_node: "n2", run: t0.run } });
    const run = `Meta.run == "${t0.run}"`;
    const cases: Array<[string, string[]]> = [
      [`${run} and Meta.berth_node == "n1"`, [a]],
      [`${run} and Meta.berth_node != "n1"`, [b]],
      [`${run} and Service == "${b}"`, [b]],
      [`${run} and ID == "${a}"`, [a]],
      [`${run} and "web" in Tags`, [a]],
      [`${run} and "web" not in Tags`, [b]],
      [`${run} and Tags is empty`, [b]],
      [`${run} and Tags is not empty`, [a]],
      [`${run} and Meta.missing == "x"`, []],
      [`${run} and Meta.missing != "x"`, [a, b]],
      [`${run} and (Meta.berth_node == "n1" or Service == "${b}")`, [a, b]],
      [`${run} and not Meta.berth_node == "n1"`, [b]],
      [`${run} and Tags contains "v1"`, [a]],
    ];
    for (const [filter, expected] of cases) {
      const res = await t0.get(`/v1/agent/services?filter=${enc(filter)}`);
      assert.equal(res.status, 200, `${filter}: ${res.text}`);
      assert.deepEqual(Object.keys(res.json() as object).sort(), expected.sort(), filter);
    }
  });

  test("filter - an invalid expression is 500 with the evaluator prefix", async () => {
    for (const filter of ['Meta.x = "1"', "Service ==", 'Nope == "x"', '(Service == "x"']) {
      const res = await t0.get(`/v1/agent/services?filter=${enc(filter)}`);
      assert.equal(res.status, 500, filter);
      assert.ok(res.text.startsWith("Failed to create boolean expression evaluator: "), res.text);
      assert.equal(res.headers.get("content-type"), TEXT);
    }
  });

  test("http - 405 with Allow, OPTIONS, unknown paths, ?pretty", async () => {
    const wrong = await t0.get("/v1/agent/service/register");
    assert.deepEqual([wrong.status, wrong.text, wrong.headers.get("allow")], [405, "method GET not allowed", "OPTIONS,PUT"]);
    const put = await t0.put("/v1/agent/services");
    assert.deepEqual([put.status, put.text, put.headers.get("allow")], [405, "method PUT not allowed", "OPTIONS,GET"]);
    const options = await t0.call("OPTIONS", "/v1/agent/service/deregister/x");
    assert.deepEqual([options.status, options.text, options.headers.get("allow")], [200, "", "OPTIONS,PUT"]);
    const unknown = await t0.get("/v1/agent/nope");
    assert.deepEqual([unknown.status, unknown.text], [404, "Invalid URL path: not a recognized HTTP API endpoint\n"]);
    const pretty = await t0.get("/v1/agent/self?pretty");
    assert.ok(pretty.text.startsWith('{\n    "Config": {\n        "'), pretty.text.slice(0, 40));
    assert.ok(pretty.text.endsWith("}\n"));
  });

  test("http - enterprise-only inputs are 400 on CE", async () => {
    const cases: Array<[string, Record<string, string>, string]> = [
      ["/v1/agent/services?ns=default", {}, 'Invalid query parameter: "ns" - Namespaces are a Consul Enterprise feature'],
      ["/v1/agent/services?partition=default", {}, 'Invalid query parameter: "partition" - Partitions are a Consul Enterprise feature'],
      [
        "/v1/agent/services",
        { "X-Consul-Namespace": "default" },
        'Invalid header: "X-Consul-Namespace" - Namespaces are a Consul Enterprise feature',
      ],
      [
        "/v1/health/service/x",
        { "X-Consul-Partition": "default" },
        'Invalid header: "X-Consul-Partition" - Partitions are a Consul Enterprise feature',
      ],
    ];
    for (const [path, headers, text] of cases) {
      const res = await t0.get(path, { headers });
      assert.deepEqual([res.status, res.text], [400, text], path);
    }
  });

  test(
    "acl - with ACLs disabled every token is ignored",
    { skip: process.env.CONSUL_HTTP_TOKEN ? "a token is configured, so ACLs may be enabled" : false },
    async (t) => {
      const id = name(t, "noacl");
      const res = await t0.put("/v1/agent/service/register", { Name: id }, { headers: { "X-Consul-Token": "garbage" } });
      assert.equal(res.status, 200);
      assert.equal((await t0.get("/v1/agent/services?token=garbage")).status, 200);
    },
  );

  test("maintenance - enable adds the maintenance check and drops the instance from ?passing", async (t) => {
    const id = name(t, "maint");
    await register({ Name: id, Check: { TTL: "30s", Status: "passing" } });
    assert.equal((await t0.put(`/v1/agent/service/maintenance/${enc(id)}`)).text, "Missing value for enable");
    assert.equal((await t0.put(`/v1/agent/service/maintenance/${enc(id)}?enable=`)).text, 'Invalid value for enable: ""');
    assert.equal((await t0.put(`/v1/agent/service/maintenance/${enc(id)}?enable=true`)).status, 200);
    const m = await check(`_service_maintenance:${id}`);
    assert.deepEqual(
      [m?.Name, m?.Status, m?.Notes, m?.ServiceID],
      [
        "Service Maintenance Mode",
        "critical",
        "Maintenance mode is enabled for this service, but no reason was provided. This is a default message.",
        id,
      ],
    );
    assert.deepEqual((await t0.get(`/v1/health/service/${enc(id)}?passing`)).json(), []);
    await t0.put(`/v1/agent/service/maintenance/${enc(id)}?enable=false`);
    assert.equal(await check(`_service_maintenance:${id}`), undefined);
  });
});

describe("consul double only", { skip: doubleOnly }, () => {
  const acl = {
    defaultPolicy: "deny" as const,
    tokens: { s3cret: { accessorId: "acc-1", serviceWrite: ["allowed"] }, admin: { accessorId: "acc-admin", serviceWrite: ["*"] } },
  };

  test("acl - token sources, ACL not found, Permission denied texts, filtered results", async () => {
    const d = await startConsulDouble({ acl });
    extraDoubles.push(d);
    const put = (body: unknown, headers: Record<string, string> = {}, query = "") =>
      fetch(`${d.url}/v1/agent/service/register${query}`, { method: "PUT", headers, body: JSON.stringify(body) }).then(async (r) => [
        r.status,
        await r.text(),
      ]);
    const anon = "00000000-0000-0000-0000-000000000002";
    assert.deepEqual(await put({ Name: "allowed" }), [
      403,
      `Permission denied: token with AccessorID '${anon}' lacks permission 'service:write' on "allowed"`,
    ]);
    assert.deepEqual(await put({ Name: "allowed" }, { "X-Consul-Token": "bogus" }), [403, "ACL not found"]);
    assert.deepEqual(await put({}, { "X-Consul-Token": "bogus" }), [400, "Missing service name"]);
    assert.deepEqual(await put({ Name: "allowed", Weights: { Passing: 0 } }, { "X-Consul-Token": "bogus" }), [403, "ACL not found"]);
    assert.deepEqual(await put({ Name: "other" }, { "X-Consul-Token": "s3cret" }), [
      403,
      `Permission denied: token with AccessorID 'acc-1' lacks permission 'service:write' on "other"`,
    ]);
    assert.deepEqual(await put({ Name: "allowed" }, { "X-Consul-Token": "s3cret" }), [200, ""]);
    assert.deepEqual(await put({ Name: "allowed" }, { Authorization: "bearer s3cret extra" }), [200, ""]);
    assert.deepEqual(await put({ Name: "allowed" }, { "X-Consul-Token": "bogus" }, "?token=s3cret"), [200, ""]);
    assert.deepEqual(await put({ Name: "hidden" }, { "X-Consul-Token": "admin" }), [200, ""]);
    const list = await fetch(`${d.url}/v1/agent/services`, { headers: { "X-Consul-Token": "s3cret" } });
    assert.deepEqual(Object.keys((await list.json()) as object), ["allowed"]);
    assert.equal(list.headers.get("x-consul-results-filtered-by-acls"), "true");
    assert.equal(list.headers.get("x-consul-default-acl-policy"), "deny");
    const anonList = await fetch(`${d.url}/v1/agent/services`);
    assert.deepEqual([await anonList.text(), anonList.headers.get("x-consul-results-filtered-by-acls")], ["{}", null]);
    const dereg = await fetch(`${d.url}/v1/agent/service/deregister/nope`, { method: "PUT" });
    assert.equal(dereg.status, 404);
    const denied = await fetch(`${d.url}/v1/agent/service/deregister/hidden`, { method: "PUT", headers: { "X-Consul-Token": "s3cret" } });
    assert.deepEqual(
      [denied.status, await denied.text()],
      [403, `Permission denied: token with AccessorID 'acc-1' lacks permission 'service:write' on "hidden"`],
    );
    assert.equal(d.requests.find((r) => r.status === 403 && r.token === "bogus")?.path, "/v1/agent/service/register");
  });

  test("double - records requests and exposes services()/checks() snapshots", async () => {
    const d = await startConsulDouble({ node: "n9", datacenter: "dc9" });
    extraDoubles.push(d);
    const res = await fetch(`${d.url}/v1/agent/service/register?replace-existing-checks`, {
      method: "PUT",
      headers: { "X-Consul-Token": "t" },
      body: JSON.stringify({ Name: "web", Check: { TTL: "9s" } }),
    });
    await res.text();
    assert.deepEqual(d.requests.at(-1), {
      method: "PUT",
      path: "/v1/agent/service/register",
      query: "replace-existing-checks",
      token: "t",
      body: '{"Name":"web","Check":{"TTL":"9s"}}',
      status: 200,
    });
    assert.equal(d.node, "n9");
    assert.equal(d.services().web?.Datacenter, "dc9");
    assert.equal(d.checks()["service:web"]?.Node, "n9");
  });

  test("double - close() ends blocking queries and a new double can take the same port", async () => {
    const d = await startConsulDouble();
    const port = Number(new URL(d.url).port);
    const pending = fetch(`${d.url}/v1/catalog/services?index=999999&wait=10m`).then(
      () => "answered",
      () => "cut",
    );
    await eventually(
      () => Promise.resolve(d.requests.length),
      (n) => n === 1,
    );
    const start = Date.now();
    await d.close();
    assert.ok(Date.now() - start < 1000);
    assert.equal(await pending, "cut");
    const again = await startConsulDouble({ port });
    extraDoubles.push(again);
    assert.equal(again.url, d.url);
    assert.equal((await fetch(`${again.url}/v1/agent/services`)).status, 200);
  });
});

// What a real agent does around berth's calls (issue 12), each checked against the double and, with
// CONSUL_HTTP_ADDR, against a real agent with its defaults (enable_script_checks off). The sources:
// agent/agent_endpoint.go AgentRegisterService, agent/agent.go addServiceInternal/addCheck,
// agent/structs/check_type.go CheckType.UnmarshalJSON, Go's time.ParseDuration, agent/checks/check.go.
describe("consul agent contract - around berth's calls", () => {
  /** A one-route HTTP server on all addresses, recording who asked. */
  async function probeTarget(t: TestContext) {
    const seen: { from: string; userAgent: string }[] = [];
    const server = createServer((req, res) => {
      seen.push({ from: req.socket.remoteAddress ?? "", userAgent: req.headers["user-agent"] ?? "" });
      res.end("ok");
    });
    await new Promise<void>((resolve) => server.listen(0, resolve));
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    return { port: (server.address() as AddressInfo).port, seen };
  }

  /** This host's address as the agent reaches it: the local end of a connection to the agent. */
  async function addressSeenByAgent(): Promise<string> {
    const { hostname, port } = new URL(t0.base);
    const socket = netConnect({ host: hostname.replace(/^\[|\]$/g, ""), port: Number(port || 80) });
    await once(socket, "connect");
    const local = socket.localAddress ?? "127.0.0.1";
    socket.destroy();
    return local.replace(/^::ffff:/, "");
  }

  test("durations - beyond Go's time.Duration is a 400 with the decoder's text; the largest one is taken", async (t) => {
    const id = name(t, "duration-limit");
    await register({ Name: id, Check: { CheckID: `${id}-max`, TTL: "2562047h47m16.854775807s" } });
    assert.equal((await check(`${id}-max`))?.Type, "ttl");
    const over = ["2562047h47m16.854775808s", "3000000h", "9223372036854775808ns", "99999999999999999999ns", "106751.99116730064592d"];
    for (const d of over.slice(0, 4)) {
      for (const field of [{ TTL: d }, { HTTP: "http://127.0.0.1:1/", Interval: d }, { TTL: "10s", DeregisterCriticalServiceAfter: d }]) {
        const res = await t0.put("/v1/agent/service/register", { Name: id, Check: field });
        assert.deepEqual([res.status, res.text], [400, `Request decode failed: time: invalid duration "${d}"`], JSON.stringify(field));
      }
    }
    const unit = await t0.put("/v1/agent/service/register", { Name: id, Check: { TTL: over[4] } });
    assert.deepEqual([unit.status, unit.text], [400, `Request decode failed: time: unknown unit "d" in duration "${over[4]}"`]);
  });

  test("script checks - refused with 500 by default; a refused re-registration keeps the new definition and the checks it had", async (t) => {
    const id = name(t, "script-rereg");
    await register({ Name: id, Tags: ["old"], Checks: [{ CheckID: `${id}-ttl`, TTL: "30s" }] });
    assert.equal((await t0.put(`/v1/agent/check/pass/${enc(`${id}-ttl`)}?note=fine`)).status, 200);
    const res = await t0.put("/v1/agent/service/register?replace-existing-checks=true", {
      Name: id,
      Tags: ["new"],
      Checks: [
        { CheckID: `${id}-ttl`, TTL: "30s" },
        { CheckID: `${id}-new`, TTL: "30s" },
        { CheckID: `${id}-script`, Args: ["/bin/true"], Interval: "10s" },
      ],
    });
    assert.deepEqual(
      [res.status, res.text],
      [500, "Scripts are disabled on this agent from remote calls; to enable, configure 'enable_script_checks' to true"],
    );
    // addServiceInternal put the new definition and checks in place before addCheck refused the
    // script; cleanupRegistration removed only what did not exist before.
    assert.deepEqual((await services())[id]?.Tags, ["new"]);
    const all = await checks();
    assert.deepEqual([all[`${id}-ttl`]?.Status, all[`${id}-ttl`]?.Output], ["passing", "fine"]);
    assert.equal(all[`${id}-new`], undefined);
    assert.equal(all[`${id}-script`], undefined);
  });

  test("replace-existing-checks - a reused ID keeps none of the checks the new body lacks, named ones included", async (t) => {
    const id = name(t, "replace-reused");
    const old = {
      Name: id,
      Checks: [
        { HTTP: "http://127.0.0.1:1/", Interval: "10s" },
        { TCP: "127.0.0.1:1", Interval: "10s" },
        { CheckID: `berth-health:${id}`, Name: "Docker health check", TTL: "87600h", Status: "critical" },
      ],
    };
    await register(old);
    await register({ Name: id, Check: { TTL: "30s" } });
    const kept = Object.keys(await checks()).filter((c) => c.includes(id));
    assert.deepEqual(kept.sort(), [`berth-health:${id}`, `service:${id}`, `service:${id}:1`, `service:${id}:2`], "without the parameter");
    await register(old, "?replace-existing-checks=true");
    await register({ Name: id, Check: { TTL: "30s" } }, "?replace-existing-checks=true");
    const replaced = Object.keys(await checks()).filter((c) => c.includes(id));
    assert.deepEqual(replaced, [`service:${id}`]);
  });

  test("checks - an HTTP check is run by the agent itself, from its own network", async (t) => {
    const id = name(t, "probe");
    const target = await probeTarget(t);
    const url = `http://${(await addressSeenByAgent()).replace(/^(.*:.*)$/, "[$1]")}:${target.port}/health`;
    await register({ Name: id, Check: { HTTP: url, Interval: "1s" } });
    const c = await eventually(
      () => check(`service:${id}`),
      (v) => v?.Status === "passing",
      15_000,
    );
    assert.equal(c?.Status, "passing", c?.Output);
    assert.equal(c.Output, `HTTP GET ${url}: 200 OK Output: ok`);
    assert.ok(target.seen.length > 0 && target.seen.every((s) => s.userAgent === "Consul Health Check"));
  });
});

describe("consul double only - around berth's calls", { skip: doubleOnly }, () => {
  async function listen(t: TestContext, host: string) {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(req.socket.remoteAddress ?? "");
      res.end("ok");
    });
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    return { port: (server.address() as AddressInfo).port, seen };
  }
  const statusOf = async (d: ConsulDouble, id: string) =>
    eventually(
      () => Promise.resolve(d.checks()[id]),
      (c) => c !== undefined && c.Output !== "",
      15_000,
    );
  const put = (d: ConsulDouble, body: unknown) =>
    fetch(`${d.url}/v1/agent/service/register`, { method: "PUT", body: JSON.stringify(body) }).then(async (r) => [
      r.status,
      await r.text(),
    ]);

  test("double - enableScriptChecks takes script checks (stored as type script, never run)", async () => {
    const d = await startConsulDouble({ enableScriptChecks: true });
    extraDoubles.push(d);
    assert.deepEqual(await put(d, { Name: "s", Check: { Args: ["/bin/false"], Interval: "10s" } }), [200, ""]);
    assert.deepEqual([d.checks()["service:s"]?.Type, d.checks()["service:s"]?.Status], ["script", "critical"]);
  });

  test("double - network 'own': a loopback check reaches the agent itself, nothing the test host serves there", async (t) => {
    const target = await listen(t, "127.0.0.1");
    const own = await startConsulDouble({ network: "own" });
    const host = await startConsulDouble();
    extraDoubles.push(own, host);
    const url = `http://127.0.0.1:${target.port}/`;
    for (const d of [own, host]) assert.deepEqual(await put(d, { Name: "web", Check: { HTTP: url, Interval: "1s" } }), [200, ""]);
    const refused = await statusOf(own, "service:web");
    assert.deepEqual(
      [refused?.Status, refused?.Output],
      ["critical", `Get "${url}": dial tcp 127.0.0.1:${target.port}: connect: connection refused`],
    );
    assert.equal((await statusOf(host, "service:web"))?.Status, "passing", "an agent in the host's network reaches it");
    const self = `http://127.0.0.1:${new URL(own.url).port}/v1/agent/self`;
    assert.deepEqual(await put(own, { Name: "self", Check: { HTTP: self, Interval: "1s" } }), [200, ""]);
    assert.equal((await statusOf(own, "service:self"))?.Status, "passing", "its own port answers");
  });

  test("double - with an address of this host, probes leave from it", async (t) => {
    const address = Object.values(networkInterfaces())
      .flat()
      .find((i) => i?.family === "IPv4" && !i.internal)?.address;
    if (address === undefined) {
      t.skip("no non-loopback IPv4 address on this host");
      return;
    }
    const target = await listen(t, "0.0.0.0");
    const d = await startConsulDouble({ address });
    extraDoubles.push(d);
    assert.deepEqual(await put(d, { Name: "web", Check: { HTTP: `http://127.0.0.1:${target.port}/`, Interval: "1s" } }), [200, ""]);
    assert.equal((await statusOf(d, "service:web"))?.Status, "passing");
    assert.ok(target.seen.length > 0 && target.seen.every((from) => from.replace(/^::ffff:/, "") === address), target.seen.join(", "));
  });
});
