// Contract tests for the Consul agent HTTP API that berth relies on: a service's checks — their IDs,
// default names and statuses, the shape of a TTL check, pass/warn/fail and update of a TTL check,
// TTL expiry, and maintenance mode's check.
// They run against the in-process agent double by default, and against a real agent when
// CONSUL_HTTP_ADDR is set (CONSUL_HTTP_TOKEN is sent when set; test/consul-contract-fixture.ts).
// Every test uses IDs unique to this run and removes what it registered.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { enc, eventually, keysOf } from "./consul-double/contract-kit.ts";
import { CHECK_KEYS, check, checks, name, nodeName, register, t0, useTarget } from "./consul-contract-fixture.ts";

useTarget();

describe("consul agent contract", () => {
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
