// A node snapshot: record it, stop what it no longer lists, then fix the agent where it drifted.
import { LIMITS, type StateBucket, type StateEntry } from "../common/nats.ts";
import { toContainerEvent, type ContainerEvent, type NodeSnapshot } from "../schemas/index.ts";
import { applyToAgent } from "./apply.ts";
import type { AgentClient, AgentService } from "./consul.ts";
import { NO_HANDLER_METRICS, type HandlerMetrics } from "./metrics.ts";
import { ownedByNode } from "./meta.ts";
import {
  applyLatest,
  decodeSnapshot,
  decodeState,
  encode,
  recordIfNewer,
  recordSnapshotTime,
  snapshotKey,
  stateKey,
  stoppedAt,
} from "./latest.ts";
import { nodeDrift, servicesByContainer } from "./reconcile.ts";
import { containerKeysOf } from "../common/state-keys.ts";
import type { MappingSettings } from "./settings.ts";

export type Reconciled = { outdated: boolean; stopped: number; missing: number; stale: number; fixed: number; pruned: number };

/**
 * Keeps only the newest snapshot of a node, then its time; false when a newer one is already
 * stored. The same snapshot again is a redelivery after a failure part-way: reconciled again.
 */
async function recordSnapshot(bucket: StateBucket, snapshot: NodeSnapshot): Promise<boolean> {
  const key = snapshotKey(snapshot.data.node.name);
  const at = BigInt(snapshot.data.timeNano);
  for (;;) {
    const stored = await bucket.get(key);
    const storedAt = stored ? BigInt(decodeSnapshot(stored).data.timeNano) : undefined;
    if (storedAt !== undefined && storedAt > at) return false;
    if (storedAt === at || (await bucket.compareAndSet(key, encode(snapshot), stored?.revision ?? 0))) break;
  }
  // Before anything is pruned behind this snapshot, so a start that reads the time after a prune sees it.
  await recordSnapshotTime(bucket, snapshot.data.node.name, BigInt(snapshot.data.timeNano));
  return true;
}

/**
 * Makes the node's berth-owned services in its agent equal to its running containers (P2):
 * containers the snapshot no longer lists and whose last event is older are recorded as stopped;
 * then one listing of the agent gives the drift, and only drifted containers are applied, each
 * through the same latest-state path as single events (so a concurrent start or stop is never
 * undone). Services without berth's ownership Meta are never listed, so never touched (P6).
 * The differences are counted as found when listed, and as fixed once every drifted container
 * has been applied (a failure part-way leaves found > fixed, which an alert can see).
 */
export async function reconcileNode(
  bucket: StateBucket,
  agent: AgentClient,
  snapshot: NodeSnapshot,
  settings: MappingSettings,
  metrics: Pick<HandlerMetrics, "reconcileFound" | "reconcileFixed"> = NO_HANDLER_METRICS,
): Promise<Reconciled> {
  const node = snapshot.data.node.name;
  const at = BigInt(snapshot.data.timeNano);
  const result: Reconciled = { outdated: false, stopped: 0, missing: 0, stale: 0, fixed: 0, pruned: 0 };
  if (!(await recordSnapshot(bucket, snapshot))) return { ...result, outdated: true };
  const listed = new Set(snapshot.data.containers);
  const latest = new Map<string, ContainerEvent>();
  /** Container → its state's entry as read or written here, where the apply below can start. */
  const entries = new Map<string, StateEntry>();
  const prunable = new Map<string, number>();
  for (const [key, read] of await bucket.entriesMatching(containerKeysOf(node))) {
    let entry: StateEntry | undefined = read;
    let event = decodeState(read);
    const id = event.data.container.id;
    const older = BigInt(event.data.timeNano) < at;
    if (event.type !== "io.berth.container.stopped" && older && !listed.has(id)) {
      event = stoppedAt(event, at);
      entry = await recordIfNewer(bucket, event);
      result.stopped++;
    } else if (event.type === "io.berth.container.stopped" && older && !listed.has(id)) {
      prunable.set(key, read.revision);
    } else if (Date.now() - read.created.getTime() > (LIMITS.stateTtlSeconds * 1000) / 2) {
      // Rewritten so the bucket's TTL never drops a live state.
      const revision = await bucket.compareAndSet(key, read.value, read.revision);
      entry = revision === undefined ? undefined : { value: read.value, revision, created: new Date() };
    }
    latest.set(id, event);
    if (entry) entries.set(id, entry);
  }
  const actual = await agent.services(ownedByNode(node));
  const actualByContainer = servicesByContainer(actual);
  const drift = nodeDrift(latest, actual, settings);
  result.missing = drift.missing;
  result.stale = drift.stale;
  if (drift.missing + drift.stale > 0) metrics.reconcileFound(node, drift.missing + drift.stale);
  for (const id of drift.containers) {
    const known = latest.get(id);
    const fallback = () => known ?? stoppedAt(ownerless(id, snapshot), at);
    // The first round starts from what was read above (state and agent listing): one agent call per
    // difference. If the state moved meanwhile, the next round reads both again.
    let listedServices: Record<string, AgentService> | undefined = actualByContainer.get(id) ?? {};
    const apply = async (state: ContainerEvent) => {
      await applyToAgent(agent, state, settings, listedServices);
      listedServices = undefined;
    };
    await applyLatest(bucket, stateKey(node, id), fallback, apply, entries.get(id));
    result.fixed++;
  }
  if (drift.missing + drift.stale > 0) metrics.reconcileFixed(node, drift.missing + drift.stale);
  // Stopped states older than the snapshot are history now: its list guards against their old starts.
  for (const [key, revision] of prunable) if (await bucket.deleteAt(key, revision)) result.pruned++;
  return result;
}

/** A stand-in event for services berth owns on the agent but holds no state for. */
function ownerless(id: string, snapshot: NodeSnapshot): ContainerEvent {
  return toContainerEvent("io.berth.container.stopped", snapshot.data.node, BigInt(snapshot.data.timeNano), {
    id,
    name: id.slice(0, 12),
    removed: true,
  });
}
