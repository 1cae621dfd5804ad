// What a real Consul agent answers around berth's calls (issue 12), through the handler's own path
// against the agent double (test/unit-agent-answers-fixture.ts): Go's duration limits — a duration
// beyond Go's time.Duration is dropped with a warning and the service registers; berth's bound is
// Go's to the nanosecond, as the agent's.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { goDurationNanos } from "../mapping/go-duration.ts";
import { event, ID_B } from "./builders.ts";
import { closeAll, setup } from "./unit-agent-answers-fixture.ts";

after(closeAll);

describe("agent answers", () => {
  test("durations - one beyond Go's time.Duration is dropped with a warning, and the service registers", async () => {
    const { double, send, letters, lines } = await setup();
    const e = event({
      container: { env: { SERVICE_CHECK_HTTP: "/", SERVICE_CHECK_INTERVAL: "3000000h", SERVICE_CHECK_TIMEOUT: "0.5ns" } },
    });
    assert.deepEqual(await send(e), { acked: 1, naks: [] });
    assert.deepEqual(letters, []);
    const [id] = Object.keys(double.services());
    assert.deepEqual([double.checks()[`service:${id}`]?.Interval, double.checks()[`service:${id}`]?.Timeout], ["10s", ""]);
    const warned = lines.find((l) => l["msg"] === "mapping warnings")?.["warnings"] as string[];
    assert.equal(warned.length, 2, warned.join("\n"));
    assert.ok(
      warned[0]?.endsWith(
        'SERVICE_CHECK_INTERVAL="3000000h" is longer than Consul accepts (Go\'s limit: 2562047h47m16.854775807s): ignored',
      ),
    );
    assert.ok(warned[1]?.endsWith('SERVICE_CHECK_TIMEOUT="0.5ns" is not a positive duration such as 10s or 1m30s: ignored'));
  });

  test("durations - berth's bound is Go's to the nanosecond, and the agent agrees", async () => {
    assert.equal(goDurationNanos("2562047h47m16.854775807s"), (1n << 63n) - 1n);
    assert.equal(goDurationNanos("2562047h47m16.854775808s"), undefined);
    assert.equal(goDurationNanos("9223372036854775807ns"), (1n << 63n) - 1n);
    assert.equal(goDurationNanos("9223372036854775808ns"), undefined);
    assert.equal(goDurationNanos("1.5h"), 5_400_000_000_000n);
    assert.equal(goDurationNanos("1h0.5m.25s"), 3_630_250_000_000n);
    assert.equal(goDurationNanos("0.5ns"), 0n);
    assert.equal(goDurationNanos("10"), undefined);
    assert.equal(goDurationNanos("10d"), undefined);
    const { double, send, letters } = await setup();
    await send(event({ container: { env: { SERVICE_CHECK_TTL: "2562047h47m16.854775807s" } } }));
    await send(event({ container: { id: ID_B, name: "b", env: { SERVICE_CHECK_TTL: "2562047h47m16.854775808s" } } }));
    assert.deepEqual(letters, []);
    const ttls = Object.values(double.checks()).map((c) => c.Type);
    assert.deepEqual(ttls, ["ttl"], "the first kept its TTL check; the second registered without one");
  });
});
