// One node of a pipeline: its agent (a double on a port fixed for the run, so it can stop and come
// back, optionally behind a delaying proxy; absent; or the test's own) and its container engine.
import { startConsulDouble, type ConsulDouble } from "../consul-double/index.ts";
import { startDelayedAgent, type DelayedAgent } from "../delayed-agent.ts";
import { registerCleanup } from "../harness/cleanup.ts";
import { startDockerd, type PrivateDockerEngine } from "../harness/dockerd.ts";
import { ensureTestImage } from "../harness/image.ts";
import { startPodman, type PodmanEngine } from "../harness/podman.ts";
import { freePort } from "../harness/ports.ts";
import type { AgentSpec, ResolvedNode } from "./options.ts";

export type NodeParts = {
  spec: ResolvedNode;
  /** The agent double now serving the node (the latest started), if any. */
  double: ConsulDouble | undefined;
  /** What the handlers are told: the double's URL (or its delaying proxy's), an absent port, or the test's own agent. */
  agentUrl: string | undefined;
  docker: PrivateDockerEngine | undefined;
  podman: PodmanEngine | undefined;
  /** Starts the node's agent double (again: same port, empty state). */
  startAgent: () => Promise<ConsulDouble>;
  /** Stops the node's agent double; the handlers find nothing on its port until startAgent(). */
  stopAgent: () => Promise<void>;
  /** Starts the node's engine if it has none yet (with the test image). */
  startEngine: (kind?: "docker" | "podman") => Promise<void>;
};

const isDouble = (a: ResolvedNode["agent"]): a is AgentSpec => typeof a === "object" && !("url" in a);

/** `prefix` names the engines (a dockerd's name is in its temp dir and bridge: keep it short). */
export async function setUpNode(spec: ResolvedNode, onStop: (stop: () => Promise<void>) => void): Promise<NodeParts> {
  const agentSpec = spec.agent;
  let port = 0;
  let delayed: DelayedAgent | undefined;
  const parts: NodeParts = {
    spec,
    double: undefined,
    agentUrl: undefined,
    docker: undefined,
    podman: undefined,
    async startAgent() {
      if (!isDouble(agentSpec)) throw new Error(`node ${spec.name} has no agent double`);
      const { delayMs: _delay, ...options } = agentSpec;
      const double = await startConsulDouble({ ...options, node: spec.name, address: options.address ?? spec.ip, port });
      const unregister = registerCleanup(`${spec.name} agent double`, () => double.close());
      onStop(async () => {
        unregister();
        await double.close();
      });
      parts.double = double;
      return double;
    },
    async stopAgent() {
      await parts.double?.close();
    },
    async startEngine(kind = spec.engine === "podman" ? "podman" : "docker") {
      if (kind === "podman" && !parts.podman) {
        const engine = await startPodman();
        onStop(() => engine.stop());
        await ensureTestImage(engine);
        parts.podman = engine;
      }
      if (kind === "docker" && !parts.docker) {
        const engine = await startDockerd({ name: spec.name, ip: spec.ip });
        onStop(() => engine.stop());
        await ensureTestImage(engine);
        parts.docker = engine;
      }
    },
  };
  if (agentSpec === "absent") parts.agentUrl = `http://127.0.0.1:${await freePort()}`;
  else if (typeof agentSpec === "object" && "url" in agentSpec) parts.agentUrl = agentSpec.url;
  else if (isDouble(agentSpec)) {
    port = await freePort();
    const double = await parts.startAgent();
    if (agentSpec.delayMs !== undefined) {
      // The proxy forwards to the double's fixed port, so it also reaches a double started again.
      delayed = await startDelayedAgent(double.url, agentSpec.delayMs);
      onStop(() => delayed!.close());
    }
    parts.agentUrl = delayed?.url ?? double.url;
  }
  if (spec.engine !== "none") await parts.startEngine();
  return parts;
}
