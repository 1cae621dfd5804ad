// Makes a node's agent hold what the state bucket says its containers should have: the second half
// of a snapshot's reconciliation, and all of a repair — a node whose agent could not take its
// changes when they came (handler/node-gate.ts) gets them from here once it answers again.
import type { StateBucket, StateEntry } from "../common/nats/index.ts";
import { containerKeysOf } from "../common/state-keys.ts";
import { toContainerEvent, type ContainerEvent, type NodeInfo } from "../schemas/index.ts";
import { applyToAgent } from "./apply.ts";
import { ConsulError, type AgentClient, type AgentService } from "../consul/client.ts";
import { applyLatest, decodeState, stateKey, stoppedAt } from "./latest.ts";
import { NO_HANDLER_METRICS, type HandlerMetrics } from "./metrics.ts";
import { ownedByNode } from "../mapping/meta.ts";
import { nodeDrift, servicesByContainer } from "./reconcile.ts";
import type { MappingSettings } from "../mapping/settings.ts";

/** A node's container states: the latest event of each, and the entry it came from. */
export type NodeState = { latest: Map<string, ContainerEvent>; entries: Map<string, StateEntry> };

/** Containers one repair applies at once. */
export const REPAIR_CALLS = 8;

export type Repaired = { missing: number; stale: number; fixed: number; refused: number };

export type RepairDeps = {
  bucket: StateBucket;
  agent: AgentClient;
  settings: MappingSettings;
  metrics?: Pick<HandlerMetrics, "reconcileFound" | "reconcileFixed">;
  /** A container the agent refused for good (a 4xx): dead-lettered by the caller; the others go on. */
  refused(state: ContainerEvent, err: ConsulError): Promise<void>;
  /** A container whose services the repair fixed, with the state it applied last. */
  fixed?: (state: ContainerEvent) => void;
};

/** Reads every container state of `node` in one pass over the bucket. */
export async function readNode(bucket: StateBucket, node: string): Promise<NodeState> {
  const state: NodeState = { latest: new Map(), entries: new Map() };
  for (const [, entry] of await bucket.entriesMatching(containerKeysOf(node))) {
    const event = decodeState(entry);
    state.latest.set(event.data.container.id, event);
    state.entries.set(event.data.container.id, entry);
  }
  return state;
}

/**
 * One listing of the node's berth-owned services gives the drift; each drifted container is applied
 * through the same latest-state path as single events (so a concurrent start or stop is never
 * undone), starting from the state and listing read here: one agent call per difference. An agent
 * that cannot be reached or fails in a way waiting can fix ends the repair with that error (it is
 * asked again later); a container it refuses for good is reported and the rest go on. Up to
 * REPAIR_CALLS containers are applied at once: an agent answering in seconds still catches up.
 * The differences are counted as found when listed, and as fixed once all are applied.
 */
export async function repairNode(
  deps: RepairDeps,
  node: NodeInfo,
  state: NodeState,
  at: bigint,
  /** Reads into `state` the containers the agent holds that it lacks (a snapshot's repair reads only some). */
  complete?: (ids: string[]) => Promise<void>,
): Promise<Repaired> {
  const metrics = deps.metrics ?? NO_HANDLER_METRICS;
  const actual = await deps.agent.services(ownedByNode(node.name));
  const actualByContainer = servicesByContainer(actual);
  const unread = [...actualByContainer.keys()].filter((id) => !state.latest.has(id));
  if (complete && unread.length > 0) await complete(unread);
  const drift = nodeDrift(state.latest, actual, deps.settings);
  const result: Repaired = { missing: drift.missing, stale: drift.stale, fixed: 0, refused: 0 };
  if (drift.missing + drift.stale > 0) metrics.reconcileFound(node.name, drift.missing + drift.stale);
  const fixOne = async (id: string) => {
    const known = state.latest.get(id);
    const fallback = () => known ?? stoppedAt(ownerless(id, node, at), at);
    let listed: Record<string, AgentService> | undefined = actualByContainer.get(id) ?? {};
    let applied: ContainerEvent | undefined;
    const apply = async (latest: ContainerEvent) => {
      await applyToAgent(deps.agent, latest, deps.settings, listed);
      listed = undefined; // a later round lists again
      applied = latest;
    };
    const entry = state.entries.get(id);
    try {
      await applyLatest(deps.bucket, stateKey(node.name, id), fallback, apply, entry && { entry, created: false });
      result.fixed++;
      if (applied) deps.fixed?.(applied);
    } catch (err) {
      if (!(err instanceof ConsulError) || err.retryable) throw err;
      await deps.refused(known ?? fallback(), err);
      result.refused++;
    }
  };
  const queue = [...drift.containers];
  const worker = async () => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) await fixOne(id);
  };
  await Promise.all(Array.from({ length: Math.min(REPAIR_CALLS, queue.length) }, worker));
  if (drift.missing + drift.stale > 0) metrics.reconcileFixed(node.name, drift.missing + drift.stale);
  return result;
}

/** A stand-in event for services berth owns on the agent but holds no state for. */
function ownerless(id: string, node: NodeInfo, at: bigint): ContainerEvent {
  return toContainerEvent("io.berth.container.stopped", node, at, { id, name: id.slice(0, 12), removed: true });
}
