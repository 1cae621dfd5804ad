// Contract tests for the Consul agent HTTP API: what a real agent does around berth's calls (issue 12)
// — Go's duration limits, script checks refused on a re-registration, replace-existing-checks with a
// reused ID, an HTTP check run by the agent itself.
// They run against the in-process agent double by default, and against a real agent when
// CONSUL_HTTP_ADDR is set (CONSUL_HTTP_TOKEN is sent when set; test/consul-contract-fixture.ts).
// Every test uses IDs unique to this run and removes what it registered.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import { connect as netConnect, type AddressInfo } from "node:net";
import { describe, test, type TestContext } from "node:test";
import { enc, eventually } from "./consul-double/contract-kit.ts";
import { check, checks, name, register, services, t0, useTarget } from "./consul-contract-fixture.ts";

useTarget();

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
