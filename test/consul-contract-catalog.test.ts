// Contract tests for the Consul agent HTTP API that berth relies on: what the catalog and the health
// endpoint say of a registered service — the ServiceNode shape, health entries with serfHealth,
// ?passing, output-only changes that reach the catalog later — and blocking queries on ?index.
// They run against the in-process agent double by default, and against a real agent when
// CONSUL_HTTP_ADDR is set (CONSUL_HTTP_TOKEN is sent when set; test/consul-contract-fixture.ts).
// Every test uses IDs unique to this run and removes what it registered.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { enc, keysOf } from "./consul-double/contract-kit.ts";
import { check, dc, name, nodeName, register, t0, useTarget, type HealthEntry } from "./consul-contract-fixture.ts";

useTarget();

describe("consul agent contract", () => {
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
});
