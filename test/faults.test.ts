// P1–P6 under faults, with real parts: two private dockerds (nodes f1, f2), their emitters, two
// handlers, one nats-server, two agent doubles. After each fault, every agent must equal
// Docker's truth: the berth-owned services name exactly the running containers.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startBerth, type BerthProcess } from "./berth-process.ts";
import { startConsulDouble, type ConsulDouble } from "./consul-double/index.ts";
import { cleanupAll, registerCleanup } from "./harness/cleanup.ts";
import { docker } from "./harness/docker-cli.ts";
import { canStartDockerd, startDockerd, type PrivateDockerEngine } from "./harness/dockerd.ts";
import { TEST_IMAGE, ensureTestImage } from "./harness/image.ts";
import { canStartNatsServer, startNatsServer, type NatsServer } from "./harness/nats.ts";
import { freePort } from "./harness/ports.ts";
import { requireOrSkip } from "./harness/prereq.ts";
import { waitFor } from "./harness/wait.ts";
import { startSocketProxy, type SocketProxy } from "./socket-proxy.ts";

const NODES = ["f1", "f2"] as const;
type Node = (typeof NODES)[number];
const IP: Record<Node, string> = { f1: "127.0.0.21", f2: "127.0.0.22" };

describe("faults", () => {
  let nats: NatsServer;
  let proxy: SocketProxy;
  const engines = {} as Record<Node, PrivateDockerEngine>;
  const agents = {} as Record<Node, ConsulDouble>;
  const agentPorts = {} as Record<Node, number>;
  const emitters = {} as Record<Node, BerthProcess>;
  let handlers: BerthProcess[] = [];
  let ready = false;

  const env = () => ({ NATS_URL: nats.url, BERTH_PREFIX: "faults" });
  const startAgent = async (node: Node) => {
    agents[node] = await startConsulDouble({ node, address: IP[node], port: agentPorts[node] });
    const agent = agents[node];
    registerCleanup(`${node} agent double`, () => agent.close());
  };
  const startEmitter = async (node: Node) => {
    emitters[node] = await startBerth("emitter", {
      ...env(),
      DOCKER_HOST: node === "f1" ? proxy.host : engines[node].host,
      BERTH_NODE: node,
      BERTH_HOST_IP: IP[node],
      BERTH_RESYNC_SECONDS: "2",
    });
    await emitters[node].waitForLog((l) => l.msg === "watching docker", `${node} emitter watching`);
  };
  const startHandler = async () => {
    const h = await startBerth("handler", { ...env(), BERTH_CONSUL_AGENTS: NODES.map((n) => `${n}=http://127.0.0.1:${agentPorts[n]}`).join(",") });
    await h.waitForLog((l) => l.msg === "started", "handler started");
    handlers.push(h);
    return h;
  };
  const run = (node: Node, ...args: string[]) => docker(engines[node], "run", "-d", "--pull=never", "-p", "8080", ...args, TEST_IMAGE);
  const running = async (node: Node) => new Set((await docker(engines[node], "ps", "-q", "--no-trunc")).split("\n").filter((l) => l !== ""));
  /** Containers that have services in the node's agent, and whether that equals Docker's running set. */
  const drift = async (node: Node) => {
    const owned = new Set(Object.values(agents[node].services()).map((s) => s.Meta["berth_container"] ?? ""));
    const truth = await running(node);
    const missing = [...truth].filter((id) => !owned.has(id));
    const stale = [...owned].filter((id) => !truth.has(id));
    return { missing: missing.length, stale: stale.length, running: truth.size };
  };
  const converged = (nodes: readonly Node[] = NODES, timeoutMs = 20_000) =>
    waitFor(
      async () => {
        const d = await Promise.all(nodes.map(drift));
        return d.every((x) => x.missing === 0 && x.stale === 0) && d;
      },
      { what: `agents of ${nodes.join(", ")} equal Docker's running containers`, timeoutMs, intervalMs: 50 },
    );

  before(async () => {
    if (!canStartDockerd() || !canStartNatsServer()) return;
    nats = await startNatsServer();
    for (const node of NODES) {
      agentPorts[node] = await freePort();
      await startAgent(node);
      engines[node] = await startDockerd({ name: node, ip: IP[node] });
      await ensureTestImage(engines[node]);
    }
    proxy = await startSocketProxy(engines.f1.socketPath);
    for (const node of NODES) await startEmitter(node);
    await startHandler();
    await startHandler();
    ready = true;
  });
  after(cleanupAll);
  const prereq = (t: import("node:test").TestContext) => requireOrSkip(t, "root, dockerd and nats-server", ready);

  test("faults - the emitter restarted while containers start and die: converges", async (t) => {
    if (!prereq(t)) return;
    const doomed = await run("f1");
    await run("f1");
    await converged(["f1"]);
    await emitters.f1.stop("SIGKILL");
    await docker(engines.f1, "kill", doomed);
    await run("f1");
    await startEmitter("f1");
    const [d] = await converged(["f1"]);
    assert.equal(d?.running, 2);
  });

  test("faults - a handler killed with SIGKILL mid-batch: redelivered and applied once in effect", async (t) => {
    if (!prereq(t)) return;
    const victim = handlers[0]!;
    const seen = victim.logs.length;
    const starting = Promise.all(Array.from({ length: 12 }, () => run("f2")));
    await victim.waitForLog((l) => victim.logs.indexOf(l) >= seen && l.msg === "applied", "the victim applying the batch");
    await victim.stop("SIGKILL");
    handlers = handlers.filter((h) => h !== victim);
    await starting;
    await converged(["f2"], 60_000);
    const ids = Object.values(agents.f2.services()).map((s) => s.ID);
    assert.equal(new Set(ids).size, ids.length);
    await startHandler();
  });

  test("faults - the NATS server restarted: both sides reconnect and nothing is lost", async (t) => {
    if (!prereq(t)) return;
    const restarting = nats.restart();
    const [id] = await Promise.all([run("f1"), restarting]);
    await converged();
    await docker(engines.f1, "kill", id);
    await converged();
  });

  test("faults - one agent down: its work waits and applies when it returns, other nodes keep flowing", async (t) => {
    if (!prereq(t)) return;
    await agents.f2.close();
    const waiting = await run("f2");
    await run("f1");
    await converged(["f1"]);
    await handlers[0]!.waitForLog((l) => l.msg === "retrying" && l["container"] === waiting, "retries for the down agent", 20_000).catch(
      () => handlers[1]!.waitForLog((l) => l.msg === "retrying" && l["container"] === waiting, "retries for the down agent"),
    );
    await startAgent("f2"); // a new, empty agent: reconciliation also restores what it lost
    await converged(["f2"], 60_000);
  });

  test("faults - the Docker event stream cut: resumed with since, no event lost", async (t) => {
    if (!prereq(t)) return;
    const victim = await run("f1");
    await converged(["f1"]);
    const seen = emitters.f1.logs.length;
    proxy.cut({ refusing: true });
    await docker(engines.f1, "kill", victim); // its die happens while the emitter cannot see Docker
    const late = await run("f1");
    proxy.accept();
    const published = (id: string, type: string) => (l: { msg: string; [k: string]: unknown }) =>
      emitters.f1.logs.indexOf(l as never) >= seen && l.msg === "published" && l["container"] === id && l["type"] === type;
    await emitters.f1.waitForLog(published(victim, "io.berth.container.stopped"), "the die replayed with since", 20_000);
    await emitters.f1.waitForLog(published(late, "io.berth.container.started"), "the start replayed with since", 20_000);
    await converged(["f1"]);
  });

  test("faults - 100 containers started at once, then killed at once: 100 registered, then 100 removed", async (t) => {
    if (!prereq(t)) return;
    const before = (await drift("f1")).running;
    const ids: string[] = [];
    for (let wave = 0; wave < 5; wave++) ids.push(...(await Promise.all(Array.from({ length: 20 }, () => run("f1")))));
    const [up] = await converged(["f1"], 60_000);
    assert.equal(up?.running, before + 100);
    await docker(engines.f1, "kill", ...ids);
    const [down] = await converged(["f1"], 60_000);
    assert.equal(down?.running, before);
    t.diagnostic(`100 registered, then 100 removed (${before} others kept)`);
  });
});
