// Shared by test/unit-agent-answers-*.test.ts: the handler's own path (handleMessage → applyToAgent →
// agentClient) in front of an agent double of node3, recording dead letters, their count and the log;
// closeAll() closes every client and double setup() made.
import { createLogger } from "../common/log.ts";
import { agentClient, type AgentClient } from "../consul/client.ts";
import { handleMessage } from "../handler/consume.ts";
import { NO_HANDLER_METRICS, type HandlerMetrics } from "../handler/metrics.ts";
import { subjectFor, type ContainerEvent } from "../schemas/index.ts";
import { bytesOf, handlerDeps, message } from "./builders.ts";
import { startConsulDouble, type ConsulDouble, type ConsulDoubleOptions } from "./consul-double/index.ts";

const doubles: ConsulDouble[] = [];
const clients: AgentClient[] = [];
export async function closeAll(): Promise<void> {
  await Promise.all([...clients.map((c) => c.close()), ...doubles.map((d) => d.close())]);
}

export async function setup(options: ConsulDoubleOptions = {}) {
  const double = await startConsulDouble({ node: "node3", ...options });
  doubles.push(double);
  const agent = agentClient(double.url);
  clients.push(agent);
  const counted: string[] = [];
  const metrics: HandlerMetrics = { ...NO_HANDLER_METRICS, deadLettered: (reason, node) => void counted.push(`${reason} ${node}`) };
  const lines: Record<string, unknown>[] = [];
  const log = createLogger("handler", "info", {}, "json", {
    write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>),
  });
  const { deps, letters, repairs } = handlerDeps(agent, { log, metrics });
  const send = async (e: ContainerEvent) => {
    const { msg, settled } = message(subjectFor("berth", e), bytesOf(e));
    await handleMessage(deps, msg);
    return settled;
  };
  return { double, agent, deps, send, letters, counted, repairs, lines };
}

export const checksOf = (d: ConsulDouble, serviceId: string) =>
  Object.values(d.checks())
    .filter((c) => c.ServiceID === serviceId)
    .map((c) => c.CheckID)
    .sort();
