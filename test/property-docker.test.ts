// Hostile Docker data (odd label characters, thousands of labels, out-of-range ports, wrong
// types where Docker's JSON could be anything) through the emitter's normalisation, the contract
// and the handler's mapping: each entry is shared, or left out with a reason; nothing throws.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import type { ContainerInspect } from "../emitter/docker.ts";
import { normaliseContainer, type Dropped } from "../emitter/normalise.ts";
import { servicesFor } from "../mapping/services-for.ts";
import { SchemaError, parseContainerEvent, toContainerEvent } from "../schemas/index.ts";
import { settings } from "./builders.ts";

const RUNS = 1500;
/** Fields Docker checks before it stores them: garbage there is a lying daemon, and the contract rejects it. */
const DOCKER_VALIDATED = /^\/data\/container\/(name|image|hostname|networkMode|networks|peerNetworks|ports\/\d+\/hostIp)\b/;
const oddText = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom("", " ", "\n", "a\nb", "\u0000", "=", "a=b=c", "..", "\u202e", "SERVICE_", "__proto__", "constructor", "x".repeat(5000)),
);
const labelKey = fc.oneof(
  oddText,
  oddText.map((k) => `SERVICE_${k}`),
  oddText.map((k) => `com.docker.compose.${k}`),
  oddText.map((k) => `team.${k}`),
);
const portKey = fc.oneof(
  fc
    .tuple(fc.integer({ min: -70_000, max: 140_000 }), fc.constantFrom("tcp", "udp", "sctp", "icmp", "", "TCP"))
    .map(([p, proto]) => `${p}/${proto}`),
  oddText,
);
const binding = fc.record(
  {
    HostIp: fc.oneof(fc.constantFrom("", "0.0.0.0", "::", "127.0.0.1", "fe80::1%eth0", "not-an-ip"), oddText),
    HostPort: fc.oneof(fc.integer({ min: -5, max: 70_000 }).map(String), oddText),
  },
  { requiredKeys: [] },
);
const inspect = fc.record({
  Id: fc.constantFrom("a".repeat(64), "b".repeat(64)),
  Name: fc.oneof(
    fc.constant("/web"),
    oddText.map((n) => `/${n}`),
  ),
  Config: fc.record(
    {
      Image: oddText,
      Hostname: oddText,
      Env: fc.array(
        fc.oneof(
          fc.tuple(labelKey, oddText).map(([k, v]) => `${k}=${v}`),
          oddText,
        ),
        { maxLength: 40 },
      ),
      Labels: fc.oneof(fc.dictionary(labelKey, oddText, { maxKeys: 40 }), fc.constant(null)),
      ExposedPorts: fc.dictionary(portKey, fc.constant({}), { maxKeys: 8 }),
    },
    { requiredKeys: [] },
  ),
  NetworkSettings: fc.record(
    {
      Ports: fc.dictionary(portKey, fc.oneof(fc.constant(null), fc.array(binding, { maxLength: 3 })), { maxKeys: 8 }),
      Networks: fc.dictionary(oddText, fc.record({ IPAddress: oddText, GlobalIPv6Address: oddText }, { requiredKeys: [] }), { maxKeys: 4 }),
    },
    { requiredKeys: [] },
  ),
  HostConfig: fc.record(
    { NetworkMode: fc.oneof(fc.constantFrom("bridge", "host", "none", "container:x", "container:"), oddText) },
    { requiredKeys: [] },
  ),
  State: fc.record(
    { Running: fc.boolean(), ExitCode: fc.integer(), Health: fc.record({ Status: oddText }) },
    { requiredKeys: ["Running", "ExitCode"] },
  ),
});

/** One inspect through everything the emitter and the handler do with it; the outcome in words. */
function throughPipeline(info: ContainerInspect, prefixes: string[]): { shared: boolean; reasons: string[] } {
  const dropped: Dropped[] = [];
  const container = normaliseContainer(info, prefixes, dropped);
  for (const d of dropped) assert.ok(d.reason.length > 0 && typeof d.key === "string");
  const event = toContainerEvent(
    "io.berth.container.started",
    { name: "node1", hostIp: "10.0.0.1" },
    1_700_000_000_000_000_000n,
    container,
  );
  try {
    parseContainerEvent(JSON.parse(JSON.stringify(event)));
  } catch (err) {
    assert.ok(err instanceof SchemaError, String(err));
    assert.ok(err.problems.length > 0);
    return { shared: false, reasons: err.problems };
  }
  const mapping = servicesFor(event, settings());
  for (const s of mapping.skipped) assert.ok(s.reason.length > 0);
  return { shared: true, reasons: mapping.skipped.map((s) => s.reason) };
}

describe("hostile docker data", () => {
  test("hostile docker data - odd labels, env lines, ports and addresses: shared or dropped with a reason, never a crash", () => {
    let shared = 0;
    fc.assert(
      fc.property(inspect, fc.array(oddText, { maxLength: 3 }), (info, prefixes) => {
        const outcome = throughPipeline(info, prefixes);
        if (outcome.shared) {
          shared++;
          return;
        }
        // What a container's user writes (labels, env, ports) is dropped entry by entry and never
        // rejects the container; only fields Docker itself validates (or a lying daemon forged) do.
        for (const problem of outcome.reasons) assert.match(problem, DOCKER_VALIDATED);
      }),
      { numRuns: RUNS },
    );
    assert.ok(shared > RUNS / 10, `only ${shared} of ${RUNS} were shared: the generator is too hostile to test the mapping`);
  });

  test("hostile docker data - thousands of labels keep the first 256 shared ones and say why the rest are not", () => {
    const labels = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`SERVICE_K${i}`, `v${i}`]));
    const dropped: Dropped[] = [];
    const info = { Id: "a".repeat(64), Name: "/many", Config: { Labels: labels } } as unknown as ContainerInspect;
    const container = normaliseContainer(info, [], dropped);
    assert.equal(Object.keys(container.labels ?? {}).length, 256);
    assert.equal(dropped.length, 5000 - 256);
    assert.deepEqual(new Set(dropped.map((d) => d.reason)), new Set(["more than 256 entries"]));
  });

  test("hostile docker data - out-of-range and malformed ports are left out with a reason", () => {
    const dropped: Dropped[] = [];
    const info = {
      Id: "a".repeat(64),
      Name: "/ports",
      NetworkSettings: {
        Ports: { "99999/tcp": [{ HostIp: "", HostPort: "8080" }], "80/tcp": [{ HostIp: "", HostPort: "70000" }], "53/icmp": null },
      },
      Config: { ExposedPorts: { "-1/tcp": {}, "8080/tcp": {} } },
    } as unknown as ContainerInspect;
    const container = normaliseContainer(info, [], dropped);
    assert.deepEqual(container.ports, []);
    assert.deepEqual(container.exposedPorts, [{ containerPort: 8080, protocol: "tcp" }]);
    assert.deepEqual(dropped.map((d) => d.key).sort(), ["port -1/tcp", "port 53/icmp", "port 80/tcp -> 70000", "port 99999/tcp"]);
  });
});
