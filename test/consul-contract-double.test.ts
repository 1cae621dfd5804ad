// Tests of the Consul agent double itself, beside its contract tests: ACLs (token sources, the
// refusal texts, results filtered by ACLs), the requests it records and its services()/checks()
// snapshots, and close() ending blocking queries so a new double can take the same port.
// They need the double's own configuration, so they are skipped when CONSUL_HTTP_ADDR is set (the other
// test/consul-contract-*.test.ts files then run against that real agent instead).
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { eventually } from "./consul-double/contract-kit.ts";
import { startConsulDouble } from "./consul-double/index.ts";
import { closeAll, doubleOnly, extraDoubles } from "./consul-contract-fixture.ts";

after(closeAll);

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
