// The README's example under compose: its HTTP check passes — the address it is checked at (the
// node's BERTH_HOST_IP, as the README's quick start sets it) is one node1's agent reaches from its own
// network namespace. Shown on a real container of a private dockerd, registered through the handler's
// path in an agent double whose checks run from the compose agent's network namespace; `berth explain`
// warns of the old default, a loopback address.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { containerServices } from "../cli/container-services.ts";
import { loadEmitterConfig } from "../emitter/config.ts";
import { dockerSource } from "../emitter/docker.ts";
import { agentEntryFor } from "../consul/agents.ts";
import { agentClient } from "../consul/client.ts";
import { agentDirectory, loadHandlerConfig } from "../handler/config.ts";
import { stamped } from "../mapping/fingerprint.ts";
import { loadMappingSettings } from "../cli/mapping-config.ts";
import { cleanupAll, registerCleanup } from "./harness/cleanup.ts";
import { docker } from "./harness/docker-cli.ts";
import { canStartDockerd, missingForDockerd } from "./harness/dockerd.ts";
import { TEST_IMAGE } from "./harness/image.ts";
import { freePort } from "./harness/ports.ts";
import { requireOrSkip } from "./harness/prereq.ts";
import { waitFor } from "./harness/wait.ts";
import { startPipeline } from "./pipeline/index.ts";
import { DOCKER_GID, ROOT, available, hostNetwork, resolved } from "./compose-fixture.ts";

/** This host's address, as `hostname -I` names it first: a non-loopback IPv4 of one of its interfaces. */
const thisHostAddress = () =>
  Object.values(networkInterfaces())
    .flat()
    .find((i) => i?.family === "IPv4" && !i.internal)?.address;

/**
 * The README's quick start: whether it sets BERTH_HOST_IP for compose, and its example container
 * (`docker run -d … -e SERVICE_…=… -p <host>:<container> <image>`).
 */
function readmeQuickStart(): { setsHostIp: boolean; env: string[]; containerPort: number } {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const quickStart = readme.slice(readme.indexOf("## Quick start"), readme.indexOf("\n## ", readme.indexOf("## Quick start") + 1));
  const line = quickStart.split("\n").find((l) => l.startsWith("docker run -d "));
  assert.ok(line, "README's quick start runs a container");
  const env = [...line.matchAll(/-e (SERVICE_\S+)/g)].map((m) => m[1]!);
  const port = /-p (\d+):(\d+)/.exec(line);
  assert.ok(port, "the example publishes a port");
  return { setsHostIp: /\bBERTH_HOST_IP=/.test(quickStart), env, containerPort: Number(port[2]) };
}

describe("compose", () => {
  after(cleanupAll);

  test("compose - the README's example check passes: its address is one node1's agent reaches from its network namespace", async (t) => {
    if (!available(t)) return;
    const address = thisHostAddress();
    if (!requireOrSkip(t, `root and dockerd (missing: ${missingForDockerd().join(", ") || "none"})`, canStartDockerd())) return;
    if (!requireOrSkip(t, "a non-loopback IPv4 address on this host", address !== undefined)) return;
    // As the README's quick start says: BERTH_HOST_IP this host's address if it sets it, else compose's default.
    const example = readmeQuickStart();
    const { services } = resolved(example.setsHostIp ? { DOCKER_GID, BERTH_HOST_IP: address! } : { DOCKER_GID });
    const emitterEnv = services.emitter!.environment ?? {};
    const handlerEnv = services.handler!.environment ?? {};
    const emitter = loadEmitterConfig(emitterEnv);
    const node = emitter.BERTH_NODE;
    assert.ok(node, "BERTH_NODE is set");
    // The agent the handlers register in, and the network namespace its checks run from.
    const agentUrl = agentEntryFor(agentDirectory(loadHandlerConfig(handlerEnv)), node)!.url;
    const agentService = Object.values(services).find((svc) => svc.command?.includes(`-node=${node}`));
    assert.ok(agentService, `${agentUrl}: node ${node}'s agent`);
    const network = hostNetwork(agentService) ? "host" : "own";

    // The README's container, on a real engine publishing on all addresses as a default dockerd does, and node1's agent
    // double whose checks run from the compose agent's network namespace.
    const p = await startPipeline({
      prefix: "compose",
      nats: false,
      nodes: [{ name: node, ip: "0.0.0.0", engine: "docker", agent: { network, address: "127.0.0.1" } }],
    });
    if (!p.ready(t)) return;
    const engine = p.engine(node);
    const hostPort = await freePort();
    const args = example.env.flatMap((e) => ["-e", e]);
    const id = await docker(
      engine,
      "run",
      "-d",
      "--pull=never",
      "-e",
      `PORT=${example.containerPort}`,
      ...args,
      "-p",
      `${hostPort}:${example.containerPort}`,
      TEST_IMAGE,
    );
    const found = await containerServices(dockerSource(engine.host), id, {
      node,
      hostIp: emitter.BERTH_HOST_IP,
      settings: loadMappingSettings(handlerEnv),
    });
    const [service] = found?.mapping.services ?? [];
    assert.ok(service?.Check?.HTTP, "the example has an HTTP check");
    // Registered in an agent whose checks run from the compose agent's network namespace.
    const agent = p.agent(node);
    const client = agentClient(agent.url);
    registerCleanup("compose agent client", () => client.close());
    await client.register(stamped(service));
    const check = await waitFor(
      () => {
        const c = Object.values(agent.checks()).find((c) => c.ServiceID === service.ID);
        return c?.Status === "passing" ? c : c?.Output ? c : undefined;
      },
      { what: "the example's check run", timeoutMs: 20_000 },
    );
    assert.equal(check.Status, "passing", check.Output);
    assert.equal(new URL(service.Check.HTTP).hostname, emitter.BERTH_HOST_IP, "checked at BERTH_HOST_IP");
    assert.equal(emitter.BERTH_HOST_IP, address, "this host's address");
    assert.deepEqual(found!.mapping.warnings, [], "no warning: not a loopback address");
    // What `berth explain` (the same path) says of the old default, 127.0.0.1, which only an agent in the host's network reaches.
    const onLoopback = await containerServices(dockerSource(engine.host), id, {
      node,
      hostIp: "127.0.0.1",
      settings: loadMappingSettings(handlerEnv),
    });
    assert.match(
      onLoopback?.mapping.warnings.join("\n") ?? "",
      /the check targets 127\.0\.0\.1:\d+, a loopback address: the node's Consul agent runs the check from its own network namespace/,
    );
  });
});
