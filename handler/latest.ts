// Per-container latest desired state, shared by all workers through the state bucket (P3).
import type { StateBucket, StateEntry } from "../common/nats/index.ts";
import { parseContainerEvent, parseNodeSnapshot, readStateEntry, type ContainerEvent, type NodeSnapshot } from "../schemas/index.ts";
import { snapshotKey, snapshotTimeKey, stateKey } from "../common/state-keys.ts";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

export { snapshotKey, snapshotTimeKey, stateKey } from "../common/state-keys.ts";

/** A container's state as stored; NewerVersion when a later berth wrote it in a format this one does not know. */
export const decodeState = (entry: StateEntry): ContainerEvent => readStateEntry(entry.value, parseContainerEvent);
export const decodeSnapshot = (entry: StateEntry): NodeSnapshot => readStateEntry(entry.value, parseNodeSnapshot);
export const encode = (value: object) => encoder.encode(JSON.stringify(value));

/**
 * The container as stopped at `timeNano` when berth saw no stop event for it (a snapshot did not
 * list it, or its state is gone): its exit code is unknown, so it counts as removed.
 */
export function stoppedAt(event: ContainerEvent, timeNano: bigint): ContainerEvent {
  const { node, container } = event.data;
  return {
    ...event,
    id: `${node.name}.${container.id.slice(0, 12)}.stopped.${timeNano}`,
    type: "io.berth.container.stopped",
    time: new Date(Number(timeNano / 1_000_000n)).toISOString(),
    data: { node, timeNano: timeNano.toString(), container: { id: container.id, name: container.name, removed: true } },
  };
}

type DecodedSnapshot = { revision: number; created: number; timeNano: bigint; listed: ReadonlySet<string> };

/**
 * Decoded snapshots, per bucket and node, kept while their entry is the stored one. Every start is
 * checked against its node's snapshot, and decoding one that lists 1,000 containers costs about
 * 0.5 ms of CPU: more than all the rest of the event's work (npm run bench). At most
 * SNAPSHOTS_KEPT nodes per bucket, the oldest decoded dropped first.
 */
const decodedSnapshots = new WeakMap<StateBucket, Map<string, DecodedSnapshot>>();
const SNAPSHOTS_KEPT = 256;

function snapshotOf(bucket: StateBucket, key: string, entry: StateEntry): DecodedSnapshot {
  let byKey = decodedSnapshots.get(bucket);
  if (!byKey) decodedSnapshots.set(bucket, (byKey = new Map<string, DecodedSnapshot>()));
  const kept = byKey.get(key);
  if (kept && kept.revision === entry.revision && kept.created === entry.created.getTime()) return kept;
  const snapshot = decodeSnapshot(entry);
  const decoded = {
    revision: entry.revision,
    created: entry.created.getTime(),
    timeNano: BigInt(snapshot.data.timeNano),
    listed: new Set(snapshot.data.containers),
  };
  byKey.delete(key);
  if (byKey.size >= SNAPSHOTS_KEPT) byKey.delete(byKey.keys().next().value!);
  byKey.set(key, decoded);
  return decoded;
}

const NANOS = /^\d{1,20}$/;

const snapshotTimeOf = (entry: StateEntry | undefined): bigint | undefined => {
  const text = entry && decoder.decode(entry.value);
  return text !== undefined && NANOS.test(text) ? BigInt(text) : undefined;
};

/**
 * Records `timeNano` as the node's snapshot time unless a later one is there. Called once the
 * snapshot itself is stored, so the time never runs ahead of it: read late, it only makes a start
 * look at an older snapshot, as if it had been read a moment earlier.
 */
export async function recordSnapshotTime(bucket: StateBucket, node: string, timeNano: bigint): Promise<void> {
  const key = snapshotTimeKey(node);
  for (;;) {
    const stored = await bucket.get(key);
    const time = snapshotTimeOf(stored);
    if (time !== undefined && time >= timeNano) return;
    if ((await bucket.compareAndSet(key, encoder.encode(timeNano.toString()), stored?.revision ?? 0)) !== undefined) return;
  }
}

/**
 * A start (or health, rename) older than the node's last snapshot, whose container that snapshot
 * did not list, is history: the container has stopped since. This guards against a redelivered
 * old start after its stop's state was pruned. A start newer than the snapshot's time is not
 * history whatever the snapshot lists, so the snapshot itself is read only for older ones.
 */
async function supersededBySnapshot(bucket: StateBucket, event: ContainerEvent): Promise<boolean> {
  if (event.type === "io.berth.container.stopped") return false;
  const time = snapshotTimeOf(await bucket.get(snapshotTimeKey(event.data.node.name)));
  if (time !== undefined && BigInt(event.data.timeNano) >= time) return false;
  const key = snapshotKey(event.data.node.name);
  const entry = await bucket.get(key);
  if (!entry) return false;
  const snapshot = snapshotOf(bucket, key, entry);
  return BigInt(event.data.timeNano) < snapshot.timeNano && !snapshot.listed.has(event.data.container.id);
}

/**
 * The key's entry as recordIfNewer left it; `created`: it made the key, the container's first
 * state; `event`: the event the entry holds when it wrote it (no need to decode it again).
 */
export type Recorded = { entry: StateEntry; created: boolean; event?: ContainerEvent };

/**
 * Stores `event` as the container's state unless a newer (or the same) Docker event is already there.
 * Resolves with the key's entry as it left it (what it wrote, or the newer one it found), so the
 * apply can start from it without reading it again; undefined when the node's snapshot made the
 * event history.
 *
 * A start is most often its container's first event, so it tries to create the key at once
 * (create-then-fall-back: one round trip where read-then-create takes two). A key that never held
 * anything needs no snapshot guard: a start is history only once its container's stop is recorded
 * (then the key holds it) or was pruned behind a snapshot, which leaves the deletion's marker for
 * the bucket's TTL (then the fresh create fails) — or while the stop is still on its way, and then
 * the stop, newer, takes the key when it comes. So only a start older than half the TTL (whose
 * marker may have expired) or one that meets a marker reads the snapshot's time, beside its create;
 * the rare event it finds to be history is taken back out.
 */
export async function recordIfNewer(bucket: StateBucket, event: ContainerEvent): Promise<Recorded | undefined> {
  const key = stateKey(event.data.node.name, event.data.container.id);
  // The trace context is the message's, not the container's: a state is applied again later, untraced.
  const { traceparent, tracestate, ...state } = event;
  const value = encode(traceparent === undefined && tracestate === undefined ? event : state);
  const at = BigInt(event.data.timeNano);
  const created = (revision: number) => ({ entry: { value, revision, created: new Date() }, created: true, event });
  let stored: StateEntry | undefined;
  if (event.type !== "io.berth.container.started") stored = await bucket.get(key);
  else if (Date.now() - Number(at / 1_000_000n) < (bucket.ttlSeconds * 1000) / 2) {
    const revision = await bucket.createFresh(key, value);
    if (revision !== undefined) return created(revision);
    stored = await bucket.get(key);
  }
  for (;;) {
    if (stored && BigInt(decodeState(stored).data.timeNano) >= at) return { entry: stored, created: false };
    if (stored) {
      const revision = await bucket.compareAndSet(key, value, stored.revision);
      if (revision !== undefined) return { entry: { value, revision, created: new Date() }, created: false, event };
    } else {
      const [revision, history] = await Promise.all([bucket.compareAndSet(key, value, 0), supersededBySnapshot(bucket, event)]);
      if (revision !== undefined && !history) return created(revision);
      if (revision !== undefined) {
        await bucket.deleteAt(key, revision); // false: a newer event is stored now, which the apply reads
        return undefined;
      }
    }
    stored = await bucket.get(key);
  }
}

/**
 * Applies the latest stored state of a container (or, when none is stored, `whenAbsent`), then
 * re-reads it: if another worker stored a newer event meanwhile, applies again. Whatever the
 * interleaving, the last apply to finish is of the newest state, so a stop is never overtaken by
 * its own earlier start. `known`: what recordIfNewer left (or an entry just read), the first
 * state to apply (or, with `applied`, the state the caller has applied already); whatever changed
 * since, the re-read sees. `apply` is told when the state it gets is the container's first (the key
 * was just created): the agent holds nothing of it yet.
 */
export async function applyLatest(
  bucket: StateBucket,
  key: string,
  whenAbsent: () => ContainerEvent,
  apply: (latest: ContainerEvent, first: boolean) => Promise<void>,
  known?: Recorded & { applied?: boolean },
): Promise<number> {
  let stored = known ? known.entry : await bucket.get(key);
  let first = known?.created === true;
  for (let rounds = 1; ; rounds++) {
    // `known.applied`: the caller applied that state already; only the re-read is left.
    const state = rounds === 1 && known?.event ? known.event : stored ? decodeState(stored) : whenAbsent();
    if (rounds > 1 || known?.applied !== true) await apply(state, first);
    const after = await bucket.get(key);
    if ((after?.revision ?? 0) === (stored?.revision ?? 0)) return rounds;
    stored = after;
    first = false;
  }
}
