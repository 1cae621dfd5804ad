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
import { PROGRAMS, readBy } from "./compose-fixture.ts";
import { findBinary } from "./harness/bin.ts";
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
const dockerWith = (engine: Pick<PrivateDockerEngine, "host">, env: Record<string, string>, ...args: string[]) =>
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

/** The variables the stack sets for `service`, as one of its task containers has them (Swarm's templates filled in). */
async function taskEnv(engine: PrivateDockerEngine, service: string): Promise<Record<string, string>> {
  const pairs = (json: string) =>
    new Map((JSON.parse(json) as string[]).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
  const set = pairs(
    await docker(engine, "service", "inspect", "--format", "{{json .Spec.TaskTemplate.ContainerSpec.Env}}", `${STACK}_${service}`),
  );
  const task = lines(await docker(engine, "ps", "-q", "--filter", `label=com.docker.swarm.service.name=${STACK}_${service}`))[0]!;
  const given = pairs(await docker(engine, "inspect", "--format", "{{json .Config.Env}}", task));
  return Object.fromEntries([...set.keys()].map((key) => [key, given.get(key) ?? ""]));
}

test("swarm stack - docker stack deploy refuses stack.yaml without BERTH_IMAGE, BERTH_NATS_NODE or DOCKER_GID, naming the variable and what to set", async (t) => {
  if (!requireOrSkip(t, "the docker CLI", findBinary("docker", ["/usr/bin/docker"]) !== undefined)) return;
  const required = { BERTH_IMAGE: "berth:dev", BERTH_NATS_NODE: "node1", DOCKER_GID: "4242" };
  // No engine answers there: a file the CLI reads, interpolates and validates gets as far as asking it.
  const deploy = (env: Record<string, string>) =>
    dockerWith({ host: "unix:///nonexistent/docker.sock" }, env, "stack", "deploy", "-c", STACK_FILE, STACK).then(
      () => assert.fail("deployed without an engine"),
      (error: unknown) => String(error),
    );
  assert.match(await deploy(required), /Cannot connect to the Docker daemon/);
  for (const missing of Object.keys(required)) {
    const refused = await deploy(Object.fromEntries(Object.entries(required).filter(([key]) => key !== missing)));
    assert.match(refused, new RegExp(`required variable ${missing} is missing a value: set ${missing} to `));
  }
});

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
  // What Swarm gave the tasks: every variable the stack sets is one the program reads, with a value it accepts.
  for (const program of ["emitter", "handler"] as const) {
    const env = await taskEnv(engine, program);
    const { read } = readBy(PROGRAMS[program], env); // throws a ConfigError listing every bad value
    assert.deepEqual(
      Object.keys(env).filter((key) => !read.has(key)),
      [],
      `the stack sets variables ${program} never reads`,
    );
    if (program === "emitter") assert.equal(env["BERTH_NODE"], node, "Swarm filled {{.Node.Hostname}} in");
  }

  const id = await docker(engine, "run", "-d", "--pull=never", "-e", "SERVICE_NAME=swarm-web", "-p", "8080", TEST_IMAGE);
  const name = (await docker(engine, "inspect", "--format", "{{.Name}}", id)).slice(1);
  const published = Number((await docker(engine, "port", id, "8080/tcp")).split(":").pop());
  const serviceId = `${node}:${name}:${id.slice(0, 12)}:8080`;
  const registered = await waitFor(() => agent.services()[serviceId], {
    what: `${serviceId} in the agent of ${node}`,
    timeoutMs: 30_000,
    intervalMs: 100,
  }).catch((error: unknown) => {
    throw new Error(`${String(error)}; the agent holds ${Object.keys(agent.services()).join(", ") || "nothing"}`);
  });
  assert.deepEqual([registered.Service, registered.Address, registered.Port], ["swarm-web", IP, published]);

  took("registered");
  // berth's commands, run as docs/operating.md says: in a handler's container.
  const handler = (await tasks("--filter", `label=com.docker.swarm.service.name=${STACK}_handler`))[0]!;
  const status = await docker(engine, "exec", handler, "berth", "status");
  assert.match(status, new RegExp(`^${node} .* ok$`, "m"), `berth status in a handler's container: ${node}, its agent ok:\n${status}`);
  await docker(engine, "rm", "-f", id);
  await waitFor(() => !Object.hasOwn(agent.services(), serviceId), { what: `${serviceId} deregistered`, timeoutMs: 30_000 });

  await removeStack(engine);
  took("the stack removed");
  assert.equal(await docker(engine, "service", "ls", "-q", "--filter", IN_STACK), "", "no service of the stack left");
  assert.equal(await docker(engine, "ps", "-aq", "--filter", IN_STACK), "", "no container of the stack left");
  assert.equal(await docker(engine, "network", "ls", "-q", "--filter", IN_STACK), "", "no network of the stack left");
});
