// A node snapshot: the bucket's half (record it, stop what it no longer lists, prune behind it),
// then the agent's (repair the node's drift), the latter through the node's gate.
import { subjectFor, type ContainerEvent, type NodeSnapshot } from "../schemas/index.ts";
import type { AgentClient, ConsulError } from "../consul/client.ts";
import type { HandlerDeps } from "./deps.ts";
import { throughGate } from "./gate-call.ts";
import { NO_HANDLER_METRICS } from "./metrics.ts";
import { repairNode } from "./repair.ts";
import { DEFAULT_MAPPING_SETTINGS } from "../mapping/settings.ts";
import { pruneBehind, readMore, recordNodeSnapshot } from "./snapshot.ts";

export async function reconcile(deps: HandlerDeps, agent: AgentClient, snapshot: NodeSnapshot): Promise<void> {
  const settings = deps.mapping ?? DEFAULT_MAPPING_SETTINGS;
  const node = snapshot.data.node.name;
  const recorded = await recordNodeSnapshot(deps.bucket, snapshot, settings);
  if (!recorded) {
    deps.log.info({ node, outdated: true }, "reconciled");
    return;
  }
  const pruned = await pruneBehind(deps.bucket, recorded.prunable);
  const repairDeps = {
    bucket: deps.bucket,
    agent,
    settings,
    refused: refusedBy(deps),
    fixed: countApplied(deps, node),
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
  };
  const complete = (ids: string[]) => readMore(deps.bucket, snapshot, settings, recorded, ids);
  const result = await throughGate(deps, node, () =>
    repairNode(repairDeps, snapshot.data.node, recorded.state, BigInt(snapshot.data.timeNano), complete),
  );
  deps.log.info(
    { node, containers: snapshot.data.containers.length, full_read: recorded.full, stopped: recorded.stopped, pruned, ...result },
    "reconciled",
  );
}

/**
 * A container whose latest state a repair or a snapshot's reconciliation brought to the agent
 * counts as applied, its latency from its Docker event: how late that state reached the agent
 * (after its agent was away, or lost it).
 */
export function countApplied(deps: HandlerDeps, node: string) {
  const metrics = deps.metrics ?? NO_HANDLER_METRICS;
  return (state: ContainerEvent) => {
    metrics.applied(state.type, node, (Date.now() - Number(BigInt(state.data.timeNano) / 1_000_000n)) / 1000);
  };
}

/** Dead-letters a container the agent refused for good while a node was being repaired; the rest go on. */
export function refusedBy(deps: HandlerDeps) {
  return async (state: ContainerEvent, err: ConsulError) => {
    const source = { subject: subjectFor(deps.prefix, state), data: new TextEncoder().encode(JSON.stringify(state)), deliveryCount: 1 };
    const problems = [`${err.op} ${err.status}: ${err.agentText}`];
    await deps.deadLetter(source, "agent-rejected", problems);
    deps.log.warn({ node: state.data.node.name, container: state.subject, reason: "agent-rejected", problems }, "dead-lettered");
    (deps.metrics ?? NO_HANDLER_METRICS).deadLettered("agent-rejected", state.data.node.name);
  };
}
