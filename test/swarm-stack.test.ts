// Swarm users' way, for real: stack.yaml deployed with `docker stack deploy` on a single-node swarm,
// a container registered in the agent of the node the emitter names from {{.Node.Hostname}}, and
// removed with it, then the stack removed. The swarm is the stand-ins' engine (test/standins/engine.ts,
// where test/compose-stack.test.ts runs): berth's image built there from the Dockerfile (the
// compose test's build is its cache) and NATS's stand-in, both kept between runs.
//
// The agent double runs in this process, as the node's agent, on this host's address on the swarm's
// gateway bridge (test/harness/swarm.ts): where containers on the stack's overlay reach the host. The
// handlers find it as stack.yaml has them find every node's agent, at http://<node>:8500; the node's
// name (this machine's hostname) is one only /etc/hosts knows, so an override gives the handlers
// `extra_hosts`, as stack.yaml asks of such names. Everything but the kept images goes at the end,
// also on failure: the stack, its volume, the example container, the swarm and its bridge, the dockerd.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, test } from "node:test";
import { startConsulDouble } from "./consul-double/index.ts";
import { cleanupAll, registerCleanup } from "./harness/cleanup.ts";
import { docker, dockerCli } from "./harness/docker-cli.ts";
import { canStartDockerd, missingForDockerd, type PrivateDockerEngine } from "./harness/dockerd.ts";
import { run } from "./harness/exec.ts";
import { TEST_IMAGE } from "./harness/image.ts";
import { requireOrSkip } from "./harness/prereq.ts";
import { initSwarm } from "./harness/swarm.ts";
import { waitFor } from "./harness/wait.ts";
import { buildBerthImage, startStandinEngine } from "./standins/engine.ts";

after(cleanupAll);

/** The engine's address: its published ports, and the swarm's (a loopback address of this test's own, as mapping-swarm has 127.0.0.63). */
const IP = "127.0.0.65";
const STACK_FILE = resolve(import.meta.dirname, "../stack.yaml");
const STACK = "berth";
const IN_STACK = `label=com.docker.stack.namespace=${STACK}`;
/** The stack's tasks: NATS, one emitter (one node), two handlers. */
const TASKS = 4;

/** `docker <args>` with the stack's variables in the CLI's environment (docker stack deploy reads them there). */
const dockerWith = (engine: PrivateDockerEngine, env: Record<string, string>, ...args: string[]) =>
  run(dockerCli(), ["-H", engine.host, ...args], { env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", ...env } });

const lines = (text: string) => text.split("\n").filter(Boolean);

/** Removes the stack, if deployed, waiting until its tasks' containers are gone; then its volume. */
async function removeStack(engine: PrivateDockerEngine): Promise<void> {
  if (lines(await docker(engine, "stack", "ls", "--format", "{{.Name}}")).includes(STACK)) await docker(engine, "stack", "rm", STACK);
  await waitFor(async () => (await docker(engine, "ps", "-aq", "--filter", IN_STACK)) === "", {
    what: "the stack's containers gone",
    timeoutMs: 60_000,
    intervalMs: 250,
  });
  const volumes = await docker(engine, "volume", "ls", "-q", "--filter", IN_STACK);
  if (volumes !== "") await docker(engine, "volume", "rm", ...lines(volumes));
}

test("swarm stack - stack.yaml on a single-node swarm: every task healthy, a container registered in its node's agent and removed, the stack removed", async (t) => {
  if (!requireOrSkip(t, `root and dockerd (missing: ${missingForDockerd().join(", ") || "none"})`, canStartDockerd())) return;
  const started = Date.now();
  const took = (what: string) => t.diagnostic(`${what} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const engine = await startStandinEngine("swarmstack", IP, (text) => t.diagnostic(text));
  took("the stand-ins' engine");
  await buildBerthImage(engine, "berth:dev");
  took("berth:dev built");
  const swarm = await initSwarm(engine, IP);
  // The node's hostname, as {{.Node.Hostname}} gives it to the emitter.
  const node = await docker(engine, "node", "inspect", "self", "--format", "{{.Description.Hostname}}");
  const agent = await startConsulDouble({ node, listen: swarm.gateway, port: 8500 });
  registerCleanup(`agent double of ${node}`, () => agent.close());

  const dir = mkdtempSync("/tmp/berth-swarm-stack-");
  registerCleanup(`temp dir ${dir}`, () => {
    rmSync(dir, { recursive: true, force: true });
    return Promise.resolve();
  });
  const hosts = join(dir, "hosts.yaml");
  writeFileSync(hosts, `version: "3.8"\nservices:\n  handler:\n    extra_hosts:\n      - "${node}:${swarm.gateway}"\n`);
  const env = {
    BERTH_IMAGE: "berth:dev",
    BERTH_NATS_NODE: node,
    DOCKER_GID: String(statSync(engine.socketPath).gid),
    DOCKER_SOCKET: engine.socketPath,
  };
  registerCleanup(`stack ${STACK}`, () => removeStack(engine));
  // --resolve-image never: the image is this engine's own, and no registry is asked about it.
  await dockerWith(engine, env, "stack", "deploy", "--resolve-image", "never", "-c", STACK_FILE, "-c", hosts, STACK);

  // Ready: every task's healthcheck passes (NATS's JetStream, the emitter's and handlers' /readyz).
  const tasks = async (...filters: string[]) => lines(await docker(engine, "ps", "-q", "--filter", IN_STACK, ...filters));
  await waitFor(async () => (await tasks("--filter", "health=healthy")).length === TASKS, {
    what: `${TASKS} healthy tasks`,
    timeoutMs: 120_000,
    intervalMs: 500,
  }).catch(async (error: unknown) => {
    throw new Error(`${String(error)}\n${await docker(engine, "stack", "ps", STACK, "--no-trunc")}`);
  });
  took("every task healthy");
  const emitter = await docker(engine, "service", "ps", `${STACK}_emitter`, "-q");
  assert.equal(lines(emitter).length, 1, "one emitter: a global service, on the one node");

  const id = await docker(engine, "run", "-d", "--pull=never", "-e", "SERVICE_NAME=swarm-web", "-p", "8080", TEST_IMAGE);
  const name = (await docker(engine, "inspect", "--format", "{{.Name}}", id)).slice(1);
  const published = Number((await docker(engine, "port", id, "8080/tcp")).split(":").pop());
  const serviceId = `${node}:${name}:${id.slice(0, 12)}:8080`;
  const registered = await waitFor(() => agent.services()[serviceId], {
    what: `${serviceId} in the agent of ${node}: ${Object.keys(agent.services()).join(", ") || "none"}`,
    timeoutMs: 30_000,
    intervalMs: 100,
  });
  assert.deepEqual([registered.Service, registered.Address, registered.Port], ["swarm-web", IP, published]);

  took("registered");
  await docker(engine, "rm", "-f", id);
  await waitFor(() => !Object.hasOwn(agent.services(), serviceId), { what: `${serviceId} deregistered`, timeoutMs: 30_000 });

  await removeStack(engine);
  took("the stack removed");
  assert.equal(await docker(engine, "service", "ls", "-q", "--filter", IN_STACK), "", "no service of the stack left");
  assert.equal(await docker(engine, "ps", "-aq", "--filter", IN_STACK), "", "no container of the stack left");
  assert.equal(await docker(engine, "network", "ls", "-q", "--filter", IN_STACK), "", "no network of the stack left");
});
