// A Connect sidecar's life in the agent, through the handler (events, snapshots) against the agent
// double, which creates `<id>-sidecar-proxy` as Consul does (test/consul-double/sidecar.ts). The
// sidecar is berth's to keep and to remove with its service: reconciliation must take it neither
// for stale (it would remove it) nor for foreign (it would never remove it). Also: tags others
// changed under EnableTagOverride are not drift.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { agentClient, type AgentService } from "../consul/client.ts";
import { handleMessage } from "../handler/consume.ts";
import { ownedByNode } from "../mapping/meta.ts";
import { nodeDrift } from "../handler/reconcile.ts";
import { subjectFor, toNodeSnapshot, type BerthEvent, type Container } from "../schemas/index.ts";
import { ID_A, bytesOf, event, handlerDeps, memoryBucket, message, settings } from "./builders.ts";
import { startConsulDouble, type ConsulDouble } from "./consul-double/index.ts";
import { cleanupAll, registerCleanup } from "./harness/cleanup.ts";

const PARENT = `node3:svc4:${ID_A.slice(0, 12)}:8080`;
const SIDECAR = `${PARENT}-sidecar-proxy`;

async function setup(container: Partial<Container>) {
  const double: ConsulDouble = await startConsulDouble({ node: "node3", address: "10.0.0.3" });
  const agent = agentClient(double.url);
  registerCleanup("sidecar double", async () => {
    await agent.close();
    await double.close();
  });
  const bucket = memoryBucket();
  const { deps } = handlerDeps(agent, {
    bucket,
    deadLetter: (_s, reason, problems) =>
      Promise.reject(new assert.AssertionError({ message: `dead letter ${reason}: ${problems.join("; ")}` })),
  });
  const send = async (e: BerthEvent) => {
    const { msg, settled } = message(subjectFor("berth", e), bytesOf(e));
    await handleMessage(deps, msg);
    assert.deepEqual(settled, { acked: 1, naks: [] });
  };
  let at = 10n;
  const started = event({ timeNano: 1n, container });
  const snapshot = () => send(toNodeSnapshot({ name: "node3", hostIp: "10.0.0.3" }, (at += 10n), [ID_A]));
  /** Writes the agent received since the last call. */
  let seen = 0;
  const writes = () => {
    const found = double.requests.slice(seen).filter((r) => r.method === "PUT");
    seen = double.requests.length;
    return found.map((r) => r.path);
  };
  const drift = async () => nodeDrift(new Map([[ID_A, started]]), await agent.services(ownedByNode("node3")), settings());
  return { double, agent, send, started, snapshot, writes, drift };
}

describe("connect sidecar", () => {
  after(cleanupAll);

  test("sidecar - created by the agent, kept through reconciliation, removed with its service", async () => {
    const { double, send, started, snapshot, writes, drift } = await setup({
      env: { SERVICE_NAME: "web", SERVICE_CONNECT: "sidecar", SERVICE_CONNECT_UPSTREAMS: "db:9191", SERVICE_TEAM: "pay" },
    });
    await send(started);
    const sidecar: AgentService & { Proxy?: unknown } = double.services()[SIDECAR]!;
    assert.ok(sidecar, "the agent created the sidecar");
    assert.deepEqual(
      [sidecar.Kind, sidecar.Service, sidecar.Port, sidecar.Address, sidecar.Meta],
      ["connect-proxy", "web-sidecar-proxy", 21000, "10.0.0.3", { berth_node: "node3", berth_sidecar_of: ID_A, team: "pay" }],
    );
    assert.deepEqual(sidecar.Proxy, {
      DestinationServiceName: "web",
      DestinationServiceID: PARENT,
      LocalServiceAddress: "127.0.0.1",
      LocalServicePort: 8084,
      Upstreams: [{ DestinationName: "db", LocalBindPort: 9191 }],
      MeshGateway: {},
      Expose: {},
    });
    assert.deepEqual(await drift(), { containers: [], missing: 0, stale: 0 }, "neither stale nor missing");
    writes();
    await snapshot();
    await send(event({ type: "io.berth.container.health", timeNano: 2n, container: { ...started.data.container } }));
    assert.deepEqual(writes(), [], "a snapshot and a later event of the container leave both as they are");
    assert.deepEqual(Object.keys(double.services()).sort(), [PARENT, SIDECAR]);

    await send(event({ type: "io.berth.container.stopped", timeNano: 3n, container: { id: ID_A, name: "svc4", exitCode: 0 } }));
    assert.deepEqual(writes(), [`/v1/agent/service/deregister/${encodeURIComponent(PARENT)}`], "berth removes the service only");
    assert.deepEqual(double.services(), {}, "the agent removed the sidecar with it");
  });

  test("sidecar - one removed by hand is missing: reconciliation registers its service again, and the agent recreates it", async () => {
    const { double, send, started, snapshot, writes, drift } = await setup({ env: { SERVICE_CONNECT: "sidecar" } });
    await send(started);
    await fetch(`${double.url}/v1/agent/service/deregister/${encodeURIComponent(SIDECAR)}`, { method: "PUT" });
    assert.deepEqual(await drift(), { containers: [ID_A], missing: 1, stale: 0 });
    writes();
    await snapshot();
    assert.deepEqual(writes(), ["/v1/agent/service/register"]);
    assert.deepEqual(Object.keys(double.services()).sort(), [PARENT, SIDECAR]);
    assert.deepEqual(await drift(), { containers: [], missing: 0, stale: 0 });
  });

  test("sidecar - its service registered again without it: the agent's to keep until the service goes; berth's wanted body brings it back in step", async () => {
    const { double, agent, send, started, snapshot, writes, drift } = await setup({ env: { SERVICE_CONNECT: "sidecar" } });
    await send(started);
    // The service registered again without a sidecar (as a berth before this one would have): the agent keeps the sidecar.
    const svc = double.services()[PARENT]!;
    const { berth_sidecar: _marker, berth_hash: _hash, ...meta } = svc.Meta;
    await agent.register({ ID: PARENT, Name: svc.Service, Tags: svc.Tags, Address: svc.Address, Port: svc.Port, Meta: meta });
    assert.ok(double.services()[SIDECAR], "Consul does not remove a sidecar its service is registered again without");
    assert.deepEqual(await drift(), { containers: [ID_A], missing: 1, stale: 0 }, "the service changed; its sidecar is not stale");
    writes();
    await snapshot();
    assert.deepEqual(writes(), ["/v1/agent/service/register"], "the wanted body, which asks for the sidecar again");
    assert.deepEqual(await drift(), { containers: [], missing: 0, stale: 0 });
    assert.deepEqual(Object.keys(double.services()).sort(), [PARENT, SIDECAR]);
  });

  test("sidecar - one of berth's whose service is gone is stale, and removed", async () => {
    const { double, send, started, snapshot, writes, drift } = await setup({ env: { SERVICE_CONNECT: "sidecar" } });
    await send(started);
    await fetch(`${double.url}/v1/agent/service/register`, {
      method: "PUT",
      body: JSON.stringify({
        Kind: "connect-proxy",
        ID: "orphan-sidecar-proxy",
        Name: "orphan-sidecar-proxy",
        Port: 21100,
        Meta: { berth_node: "node3", berth_sidecar_of: ID_A },
        Proxy: { DestinationServiceName: "orphan", DestinationServiceID: "orphan" },
      }),
    });
    assert.deepEqual(await drift(), { containers: [ID_A], missing: 0, stale: 1 });
    writes();
    await snapshot();
    assert.deepEqual(writes(), ["/v1/agent/service/deregister/orphan-sidecar-proxy"]);
    assert.deepEqual(Object.keys(double.services()).sort(), [PARENT, SIDECAR]);
    assert.deepEqual(await drift(), { containers: [], missing: 0, stale: 0 });
  });

  test("tag override - tags others set are no drift with SERVICE_ENABLE_TAG_OVERRIDE, and are put back without it", async () => {
    for (const [override, expected] of [
      ["true", { containers: [], missing: 0, stale: 0 }],
      ["false", { containers: [ID_A], missing: 1, stale: 0 }],
    ] as const) {
      const { double, agent, send, started, snapshot, writes, drift } = await setup({
        env: { SERVICE_ENABLE_TAG_OVERRIDE: override, SERVICE_TAGS: "a" },
      });
      await send(started);
      const svc = double.services()[PARENT]!;
      // Tags changed in the catalog, which the agent takes over under tag override (Consul's anti-entropy).
      await agent.register({
        ID: svc.ID,
        Name: svc.Service,
        Tags: ["canary"],
        Address: svc.Address,
        Port: svc.Port,
        Meta: svc.Meta,
        EnableTagOverride: svc.EnableTagOverride,
      });
      assert.deepEqual(await drift(), expected, `EnableTagOverride ${override}`);
      writes();
      await snapshot();
      assert.deepEqual(double.services()[PARENT]?.Tags, override === "true" ? ["canary"] : ["a"]);
      assert.equal(writes().length, override === "true" ? 0 : 1);
    }
  });
});
