// A node snapshot: record it, and stop what it no longer lists (the agent's half: handler/repair.ts).
import { entriesOf, type StateBucket, type StateEntry } from "../common/nats/index.ts";
import type { NodeSnapshot } from "../schemas/index.ts";
import { decodeSnapshot, decodeState, encode, recordIfNewer, recordSnapshotTime, snapshotKey, stoppedAt } from "./latest.ts";
import { servicesFor } from "../mapping/services-for.ts";
import type { NodeState } from "./repair.ts";
import type { MappingSettings } from "../mapping/settings.ts";
import { containerKeysOf, stateKey } from "../common/state-keys.ts";

/**
 * How often each node's snapshot reads every state the node has in the bucket. The others read the
 * states of the containers this snapshot and the node's previous one list, and (readMore) those of
 * the containers the agent holds: a container the bucket believes running is one of those unless
 * the agent lost it too. Reading every key asks nats-server for the bucket's subject index, which
 * walks all of the bucket's keys (~17 ms at 58,000 on nats-server 2.9, holding the stream): at
 * 1,000 nodes with a snapshot a minute each, that was the fleet's bottleneck.
 */
export const FULL_READ_EVERY_MS = 10 * 60_000;

/** Each node's window starts at an offset of its own, so that a fleet's full reads are spread out. */
function windowOf(node: string, timeNano: bigint): bigint {
  let offset = 0;
  for (const c of node) offset = (offset * 31 + c.charCodeAt(0)) % FULL_READ_EVERY_MS;
  return (timeNano / 1_000_000n + BigInt(offset)) / BigInt(FULL_READ_EVERY_MS);
}

/**
 * Keeps only the newest snapshot of a node, then its time; undefined when a newer one is already
 * stored. Otherwise which states to read: all of the node's (`full`: the node's first snapshot,
 * its first in a FULL_READ_EVERY_MS window, or the same snapshot again — a redelivery after a
 * failure part-way), or those of the containers it and the previous one list.
 */
async function recordSnapshot(
  bucket: StateBucket,
  snapshot: NodeSnapshot,
): Promise<{ full: true } | { full: false; ids: Set<string> } | undefined> {
  const node = snapshot.data.node.name;
  const at = BigInt(snapshot.data.timeNano);
  let previous: NodeSnapshot | undefined;
  for (;;) {
    const stored = await bucket.get(snapshotKey(node));
    previous = stored ? decodeSnapshot(stored) : undefined;
    const storedAt = previous ? BigInt(previous.data.timeNano) : undefined;
    if (storedAt !== undefined && storedAt > at) return undefined;
    if (storedAt === at || (await bucket.compareAndSet(snapshotKey(node), encode(snapshot), stored?.revision ?? 0))) break;
  }
  // Before anything is pruned behind this snapshot, so a start that reads the time after a prune sees it.
  await recordSnapshotTime(bucket, node, at);
  const before = previous && BigInt(previous.data.timeNano);
  if (before === undefined || before === at || windowOf(node, before) !== windowOf(node, at)) return { full: true };
  return { full: false, ids: new Set([...snapshot.data.containers, ...previous!.data.containers]) };
}

/** What a snapshot left in the bucket: the node's states after it, and the stopped states it made history. */
export type SnapshotRecorded = { state: NodeState; stopped: number; prunable: Map<string, number>; full: boolean };

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
  const reads = await recordSnapshot(bucket, snapshot);
  if (!reads) return undefined;
  const node = snapshot.data.node.name;
  const recorded: SnapshotRecorded = {
    state: { latest: new Map(), entries: new Map() },
    stopped: 0,
    prunable: new Map(),
    full: reads.full,
  };
  const entries = reads.full
    ? await bucket.entriesMatching(containerKeysOf(node))
    : await entriesOf(
        bucket,
        [...reads.ids].map((id) => stateKey(node, id)),
      );
  await absorb(bucket, snapshot, settings, recorded, entries);
  return recorded;
}

/**
 * The states of `ids` the snapshot's own reads left out, judged by it as those were: a snapshot's
 * repair reads those of the containers the agent holds (handler/apply-snapshot.ts) — a container
 * that started after the previous snapshot and died unseen, while the emitter was away, is one.
 */
export async function readMore(
  bucket: StateBucket,
  snapshot: NodeSnapshot,
  settings: MappingSettings,
  recorded: SnapshotRecorded,
  ids: readonly string[],
): Promise<void> {
  const node = snapshot.data.node.name;
  await absorb(
    bucket,
    snapshot,
    settings,
    recorded,
    await entriesOf(
      bucket,
      ids.map((id) => stateKey(node, id)),
    ),
  );
}

/** Each entry judged by the snapshot: running but not listed → stopped; stopped and older → prunable; near its TTL → rewritten. */
async function absorb(
  bucket: StateBucket,
  snapshot: NodeSnapshot,
  settings: MappingSettings,
  recorded: SnapshotRecorded,
  entries: ReadonlyMap<string, StateEntry>,
): Promise<void> {
  const at = BigInt(snapshot.data.timeNano);
  const listed = new Set(snapshot.data.containers);
  for (const [key, read] of entries) {
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
}

/** Stopped states older than the snapshot are history once its time is stored: its list guards against their old starts. */
export async function pruneBehind(bucket: StateBucket, prunable: ReadonlyMap<string, number>): Promise<number> {
  let pruned = 0;
  for (const [key, revision] of prunable) if (await bucket.deleteAt(key, revision)) pruned++;
  return pruned;
}
