// The scenario users know, across three nodes, with every part real but Consul:
// three private dockerds (one per node, each publishing ports on its own loopback address),
// an emitter per dockerd, one nats-server with JetStream, two handler workers, three agent doubles.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startBerth, type BerthProcess } from "./berth-process.ts";
import { startConsulDouble, type ConsulDouble } from "./consul-double/index.ts";
import { cleanupAll, registerCleanup } from "./harness/cleanup.ts";
import { docker } from "./harness/docker-cli.ts";
import { canStartDockerd, missingForDockerd, startDockerd, type DockerEngine } from "./harness/dockerd.ts";
import { httpGet } from "./harness/http.ts";
import { TEST_IMAGE, ensureTestImage } from "./harness/image.ts";
import { canStartNatsServer, startNatsServer, type NatsServer } from "./harness/nats.ts";
import { requireOrSkip } from "./harness/prereq.ts";
import { waitFor } from "./harness/wait.ts";

const NODES = ["node1", "node2", "node3"] as const;
type Node = (typeof NODES)[number];
const HOST_IP: Record<Node, string> = { node1: "127.0.0.1", node2: "127.0.0.2", node3: "127.0.0.3" };

describe("e2e", () => {
  let nats: NatsServer;
  const engines = {} as Record<Node, DockerEngine>;
  const agents = {} as Record<Node, ConsulDouble>;
  const emitters = {} as Record<Node, BerthProcess>;
  const handlers: BerthProcess[] = [];
  let ready = false;

  const natsEnv = () => ({ NATS_URL: nats.url, BERTH_PREFIX: "e2e" });
  const startEmitter = async (node: Node) => {
    emitters[node] = await startBerth("emitter", {
      ...natsEnv(),
      DOCKER_HOST: engines[node].host,
      BERTH_NODE: node,
      BERTH_HOST_IP: HOST_IP[node],
    });
    await emitters[node].waitForLog((l) => l.msg === "watching docker", `${node} emitter watching`);
  };
  const startHandler = async () => {
    const handler = await startBerth("handler", { ...natsEnv(), BERTH_CONSUL_AGENTS: NODES.map((n) => `${n}=${agents[n].url}`).join(",") });
    await handler.waitForLog((l) => l.msg === "started", "handler started");
    handlers.push(handler);
  };
  const run = (node: Node, ...args: string[]) => docker(engines[node], "run", "-d", "--pull=never", ...args, TEST_IMAGE);
  const servicesNamed = (node: Node, name: string) => Object.values(agents[node].services()).filter((s) => s.Service === name);
  const registeredAnywhere = (name: string) =>
    NODES.filter((n) => agents[n].requests.some((r) => r.path === "/v1/agent/service/register" && (r.body ?? "").includes(`"${name}"`)));

  before(async () => {
    if (!canStartDockerd() || !canStartNatsServer()) return;
    nats = await startNatsServer();
    await Promise.all(
      NODES.map(async (node) => {
        agents[node] = await startConsulDouble({ node, address: HOST_IP[node] });
        registerCleanup(`${node} agent double`, () => agents[node].close());
        engines[node] = await startDockerd({ name: `e2e${node.slice(-1)}`, ip: HOST_IP[node] });
        await ensureTestImage(engines[node]);
      }),
    );
    ready = true;
  });
  after(cleanupAll);

  const prerequisites = (t: import("node:test").TestContext) =>
    requireOrSkip(
      t,
      `root, nats-server and dockerd (missing: ${[...missingForDockerd(), ...(canStartNatsServer() ? [] : ["nats-server"])].join(", ")})`,
      ready,
    );

  test("e2e - a container already running when the emitter starts is registered", async (t) => {
    if (!prerequisites(t)) return;
    const id = await run("node1", "--name", "early", "-e", "SERVICE_NAME=early", "-p", "8081:8080");
    for (const node of NODES) await startEmitter(node);
    await emitters.node1.waitForLog((l) => l.msg === "published" && l["container"] === id, "early published");
    await startHandler();
    const [svc] = await waitFor(() => servicesNamed("node1", "early").length === 1 && servicesNamed("node1", "early"), {
      what: "early in node1's agent",
    });
    assert.equal(svc?.Port, 8081);
    assert.equal(svc.Address, HOST_IP.node1);
    assert.equal(svc.Meta["berth_container"], id);
  });

  test("e2e - a handler started after the events were published still applies them", async (t) => {
    if (!prerequisites(t)) return;
    await Promise.all(handlers.splice(0).map((h) => h.stop()));
    const id = await run("node2", "--name", "late", "-e", "SERVICE_NAME=late", "-p", "8082:8080");
    await emitters.node2.waitForLog((l) => l.msg === "published" && l["container"] === id, "late published");
    assert.equal(servicesNamed("node2", "late").length, 0, "no handler runs: nothing can be registered yet");
    await startHandler();
    await startHandler();
    await waitFor(() => servicesNamed("node2", "late").length === 1, { what: "late in node2's agent" });
  });

  test("e2e - svc4: started on node3 → in node3's agent, answered by the container; killed → gone", async (t) => {
    if (!prerequisites(t)) return;
    const id = await docker(
      engines.node3,
      "create",
      "--pull=never",
      "--name",
      "svc4",
      "-e",
      "SERVICE_NAME=svc4",
      "-p",
      "8084:8080",
      TEST_IMAGE,
    );
    await docker(engines.node3, "start", "svc4");
    const started = performance.now();
    const [svc] = await waitFor(() => servicesNamed("node3", "svc4").length > 0 && servicesNamed("node3", "svc4"), {
      what: "svc4 in node3's agent",
      intervalMs: 1,
    });
    const latencyMs = performance.now() - started;
    t.diagnostic(`docker start returned → svc4 in node3's agent: ${latencyMs.toFixed(1)} ms`);
    assert.equal(svc?.Port, 8084);
    assert.equal(svc.Address, HOST_IP.node3);
    assert.equal(svc.Meta["berth_node"], "node3");

    const page = await httpGet(`http://${svc.Address}:${svc.Port}/`);
    assert.equal(page.status, 200);
    assert.equal(page.body.trim(), id.slice(0, 12), "the page names the container that answered");

    await docker(engines.node3, "kill", "svc4");
    await waitFor(() => servicesNamed("node3", "svc4").length === 0, { what: "svc4 gone from node3's agent" });
    assert.deepEqual(registeredAnywhere("svc4"), ["node3"], "svc4 was never registered in node1's or node2's agent");
    assert.deepEqual(registeredAnywhere("early"), ["node1"]);
    assert.deepEqual(registeredAnywhere("late"), ["node2"]);
  });

  test("e2e - every process shuts down cleanly on SIGTERM", async (t) => {
    if (!prerequisites(t)) return;
    const exits = await Promise.all([...handlers.splice(0), ...NODES.map((n) => emitters[n])].map((p) => p.stop("SIGTERM")));
    assert.deepEqual(
      exits.map((e) => e.code),
      exits.map(() => 0),
    );
  });
});
