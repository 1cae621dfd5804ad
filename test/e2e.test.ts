// The scenario users know, across three nodes, with every part real but Consul (test/pipeline):
// three private dockerds (one per node, each publishing ports on its own loopback address),
// an emitter per dockerd, one nats-server with JetStream, two handler workers, three agent doubles.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { cleanupAll } from "./harness/cleanup.ts";
import { httpGet } from "./harness/http.ts";
import { TEST_IMAGE } from "./harness/image.ts";
import { waitFor } from "./harness/wait.ts";
import { startPipeline, type Pipeline } from "./pipeline/index.ts";

const NODES = ["node1", "node2", "node3"] as const;
type Node = (typeof NODES)[number];
const HOST_IP: Record<Node, string> = { node1: "127.0.0.1", node2: "127.0.0.2", node3: "127.0.0.3" };

describe("e2e", () => {
  let p: Pipeline;

  before(async () => {
    p = await startPipeline({
      prefix: "e2e",
      // The emitters start in the first test, after a container is already running.
      nodes: NODES.map((name) => ({ name, ip: HOST_IP[name], engine: "docker", emitter: { deferred: true } })),
      handlers: 0,
    });
  });
  after(cleanupAll);

  const servicesNamed = (node: Node, name: string) => Object.values(p.agent(node).services()).filter((s) => s.Service === name);
  const registeredAnywhere = (name: string) =>
    NODES.filter((n) => p.agent(n).requests.some((r) => r.path === "/v1/agent/service/register" && (r.body ?? "").includes(`"${name}"`)));

  test("e2e - a container already running when the emitter starts is registered", async (t) => {
    if (!p.ready(t)) return;
    const id = await p.run("node1", "--name", "early", "-e", "SERVICE_NAME=early", "-p", "8081:8080");
    for (const node of NODES) await p.startEmitter(node);
    await p.emitter("node1").waitForLog((l) => l.msg === "published" && l["container"] === id, "early published");
    await p.startHandler();
    const [svc] = await waitFor(() => servicesNamed("node1", "early").length === 1 && servicesNamed("node1", "early"), {
      what: "early in node1's agent",
    });
    assert.equal(svc?.Port, 8081);
    assert.equal(svc.Address, HOST_IP.node1);
    assert.equal(svc.Meta["berth_container"], id);
    await p.converged(); // and nothing else, anywhere: each agent holds the mapping of its node's containers
  });

  test("e2e - a handler started after the events were published still applies them", async (t) => {
    if (!p.ready(t)) return;
    await p.stopHandlers();
    const id = await p.run("node2", "--name", "late", "-e", "SERVICE_NAME=late", "-p", "8082:8080");
    await p.emitter("node2").waitForLog((l) => l.msg === "published" && l["container"] === id, "late published");
    assert.equal(servicesNamed("node2", "late").length, 0, "no handler runs: nothing can be registered yet");
    await p.startHandler();
    await p.startHandler();
    const [svc] = await waitFor(() => servicesNamed("node2", "late").length === 1 && servicesNamed("node2", "late"), {
      what: "late in node2's agent",
    });
    assert.deepEqual([svc?.Port, svc?.Address, svc?.Meta["berth_container"]], [8082, HOST_IP.node2, id]);
    await p.converged(["node2"]);
  });

  test("e2e - svc4: started on node3 → in node3's agent, answered by the container; killed → gone", async (t) => {
    if (!p.ready(t)) return;
    const id = await p.docker(
      "node3",
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
    await p.docker("node3", "start", "svc4");
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

    // The service can be registered before httpd inside listens: ask until it answers.
    const page = await waitFor(() => httpGet(`http://${svc.Address}:${svc.Port}/`).then((r) => r.status === 200 && r), {
      what: "svc4's page at its advertised address",
    });
    assert.equal(page.body.trim(), id.slice(0, 12), "the page names the container that answered");

    await p.docker("node3", "kill", "svc4");
    await waitFor(() => servicesNamed("node3", "svc4").length === 0, { what: "svc4 gone from node3's agent" });
    assert.deepEqual(registeredAnywhere("svc4"), ["node3"], "svc4 was never registered in node1's or node2's agent");
    assert.deepEqual(registeredAnywhere("early"), ["node1"]);
    assert.deepEqual(registeredAnywhere("late"), ["node2"]);
    await p.converged();
  });

  test("e2e - every process shuts down cleanly on SIGTERM", async (t) => {
    if (!p.ready(t)) return;
    const exits = await Promise.all([...p.handlers.splice(0), ...NODES.map((n) => p.emitter(n))].map((e) => e.stop("SIGTERM")));
    assert.deepEqual(
      exits.map((e) => e.code),
      exits.map(() => 0),
    );
  });
});
