// What a real Consul agent answers around berth's calls (issue 12), through the handler's own path
// against the agent double (test/unit-agent-answers-fixture.ts): checks run from the agent's network —
// a check at a loopback address is warned about in the handler's log (and explain's), and an agent in
// a network namespace of its own cannot pass one at the host's loopback.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { servicesFor } from "../mapping/services-for.ts";
import { event, publish, settings } from "./builders.ts";
import { closeAll, setup } from "./unit-agent-answers-fixture.ts";

after(closeAll);

describe("agent answers", () => {
  test("loopback - a check at a loopback address is warned about in the handler's log (and explain's)", async () => {
    const { send, lines } = await setup();
    await send(event({ hostIp: "127.0.0.1", container: { env: { SERVICE_CHECK_HTTP: "/" } } }));
    const warned = lines.find((l) => l["msg"] === "mapping warnings")?.["warnings"] as string[];
    assert.equal(warned.length, 1, warned.join("\n"));
    assert.ok(
      warned[0]?.endsWith(
        "the check targets 127.0.0.1:8084, a loopback address: the node's Consul agent runs the check from its own network namespace, so it passes only if that agent shares this host's (network_mode: host)",
      ),
      warned[0],
    );
    const quiet = servicesFor(event({ hostIp: "10.0.0.3", container: { env: { SERVICE_CHECK_HTTP: "/" } } }), settings());
    assert.deepEqual(quiet.warnings, []);
    const v6 = servicesFor(event({ container: { ports: publish("[::1]:8084:8080"), env: { SERVICE_CHECK_TCP: "1" } } }), settings());
    assert.match(v6.warnings[0] ?? "", /the check targets \[::1\]:8084, a loopback address/);
  });

  test("loopback - an agent in a network namespace of its own cannot pass a check at the host's loopback", async (t) => {
    const { createServer } = await import("node:http");
    const server = createServer((_req, res) => res.end("ok"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as import("node:net").AddressInfo).port;
    const body = (id: string) => ({ ID: id, Name: id, Port: port, Check: { HTTP: `http://127.0.0.1:${port}/`, Interval: "1s" } });
    const results: Record<string, string | undefined> = {};
    for (const network of ["host", "own"] as const) {
      const { double, agent } = await setup({ network });
      await agent.register(body(network));
      const deadline = Date.now() + 10_000;
      while (double.checks()[`service:${network}`]?.Output === "" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      results[network] = double.checks()[`service:${network}`]?.Status;
    }
    assert.deepEqual(results, { host: "passing", own: "critical" });
  });
});
