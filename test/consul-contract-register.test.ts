// Contract tests for the Consul agent HTTP API that berth relies on: registering and deregistering
// a service — the answer to a good body, how a body is decoded and validated (Consul's order and
// texts), re-registration keeping check status, script checks refused, deregistration and its 404.
// They run against the in-process agent double by default, and against a real agent when
// CONSUL_HTTP_ADDR is set (CONSUL_HTTP_TOKEN is sent when set; test/consul-contract-fixture.ts).
// Every test uses IDs unique to this run and removes what it registered.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { enc } from "./consul-double/contract-kit.ts";
import { TEXT, check, checks, name, register, services, t0, useTarget } from "./consul-contract-fixture.ts";

useTarget();

describe("consul agent contract", () => {
  test("register - success is 200 with an empty body and no Content-Type", async (t) => {
    const res = await t0.put("/v1/agent/service/register", { Name: name(t, "ok"), Port: 8080 });
    assert.equal(res.status, 200);
    assert.equal(res.text, "");
    assert.equal(res.headers.get("content-type"), null);
    assert.match(res.headers.get("x-consul-default-acl-policy") ?? "", /^(allow|deny)$/);
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
});
