// Contract tests for the Consul agent HTTP API that berth relies on: what the agent lists of its
// services — the shape and key order of /v1/agent/services, tagged addresses, one service with its
// ContentHash and hash blocking — and the Connect sidecar it registers for Connect.SidecarService.
// They run against the in-process agent double by default, and against a real agent when
// CONSUL_HTTP_ADDR is set (CONSUL_HTTP_TOKEN is sent when set; test/consul-contract-fixture.ts).
// Every test uses IDs unique to this run and removes what it registered.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { enc, keysOf } from "./consul-double/contract-kit.ts";
import type { AgentService } from "./consul-double/index.ts";
import { AGENT_SERVICE_KEYS, checks, dc, name, register, services, t0, useTarget } from "./consul-contract-fixture.ts";

useTarget();

describe("consul agent contract", () => {
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
});
