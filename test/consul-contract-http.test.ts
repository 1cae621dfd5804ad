// Contract tests for the Consul agent HTTP API that berth relies on: the agent's own description
// (/v1/agent/self), the ?filter= expressions berth uses and an invalid one, the HTTP conventions
// (405 with Allow, OPTIONS, unknown paths, ?pretty), enterprise-only inputs refused on CE, and tokens
// ignored with ACLs disabled.
// They run against the in-process agent double by default, and against a real agent when
// CONSUL_HTTP_ADDR is set (CONSUL_HTTP_TOKEN is sent when set; test/consul-contract-fixture.ts).
// Every test uses IDs unique to this run and removes what it registered.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { enc } from "./consul-double/contract-kit.ts";
import { REAL, TEXT, name, register, t0, useTarget } from "./consul-contract-fixture.ts";

useTarget();

describe("consul agent contract", () => {
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
});
