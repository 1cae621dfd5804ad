// A node snapshot: record it, and stop what it no longer lists (the agent's half: handler/repair.ts).
import type { StateBucket, StateEntry } from "../common/nats/index.ts";
import type { NodeSnapshot } from "../schemas/index.ts";
import { decodeSnapshot, decodeState, encode, recordIfNewer, recordSnapshotTime, snapshotKey, stoppedAt } from "./latest.ts";
import { servicesFor } from "./mapping.ts";
import type { NodeState } from "./repair.ts";
import type { MappingSettings } from "./settings.ts";
import { containerKeysOf } from "../common/state-keys.ts";

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

/** What a snapshot left in the bucket: the node's states after it, and the stopped states it made history. */
export type SnapshotRecorded = { state: NodeState; stopped: number; prunable: Map<string, number> };

/**
 * The bucket's half of reconciling a node (P2): stores the snapshot (undefined when a newer one is
 * stored), then records as stopped every container it believes running that the snapshot does not
 * list and whose last event is older. Stopped states older than the snapshot become prunable —
 * but not those whose services the on-success rule keeps: they stay until the container is removed
 * (or their state expires). Live states near the bucket's TTL are rewritten so it never drops them.
 * Making the agent match is repairNode's part (handler/repair.ts).
 */
export async function recordNodeSnapshot(
  bucket: StateBucket,
  snapshot: NodeSnapshot,
  settings: MappingSettings,
): Promise<SnapshotRecorded | undefined> {
  if (!(await recordSnapshot(bucket, snapshot))) return undefined;
  const at = BigInt(snapshot.data.timeNano);
  const listed = new Set(snapshot.data.containers);
  const recorded: SnapshotRecorded = { state: { latest: new Map(), entries: new Map() }, stopped: 0, prunable: new Map() };
  for (const [key, read] of await bucket.entriesMatching(containerKeysOf(snapshot.data.node.name))) {
    let entry: StateEntry | undefined = read;
    let event = decodeState(read);
    const id = event.data.container.id;
    const running = event.type !== "io.berth.container.stopped";
    const history = BigInt(event.data.timeNano) < at && !listed.has(id);
    if (running && history) {
      event = stoppedAt(event, at);
      entry = (await recordIfNewer(bucket, event))?.entry;
      recorded.stopped++;
    } else if (history) {
      if (!servicesFor(event, settings).keep) recorded.prunable.set(key, read.revision);
    } else if (running && Date.now() - read.created.getTime() > (bucket.ttlSeconds * 1000) / 2) {
      const revision = await bucket.compareAndSet(key, read.value, read.revision);
      entry = revision === undefined ? undefined : { value: read.value, revision, created: new Date() };
    }
    recorded.state.latest.set(id, event);
    if (entry) recorded.state.entries.set(id, entry);
  }
  return recorded;
}

/** Stopped states older than the snapshot are history once its time is stored: its list guards against their old starts. */
export async function pruneBehind(bucket: StateBucket, prunable: ReadonlyMap<string, number>): Promise<number> {
  let pruned = 0;
  for (const [key, revision] of prunable) if (await bucket.deleteAt(key, revision)) pruned++;
  return pruned;
}
