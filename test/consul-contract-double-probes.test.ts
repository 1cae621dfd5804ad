// Tests of the Consul agent double itself, around berth's calls: the checks it runs as an agent
// would — script checks taken with enableScriptChecks, HTTP checks run from a network namespace of
// its own ('own') or from a given address of this host.
// They need the double's own configuration, so they are skipped when CONSUL_HTTP_ADDR is set (the other
// test/consul-contract-*.test.ts files then run against that real agent instead).
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { networkInterfaces } from "node:os";
import { after, describe, test, type TestContext } from "node:test";
import { eventually } from "./consul-double/contract-kit.ts";
import { startConsulDouble, type ConsulDouble } from "./consul-double/index.ts";
import { closeAll, doubleOnly, extraDoubles } from "./consul-contract-fixture.ts";

after(closeAll);

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
