// Per-container latest desired state, shared by all workers through the state bucket (P3).
import type { StateBucket, StateEntry } from "../common/nats.ts";
import { parseContainerEvent, parseNodeSnapshot, type ContainerEvent, type NodeSnapshot } from "../schemas/index.ts";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

export const stateKey = (node: string, containerId: string) => `${node}.${containerId}`;
/** The node's last snapshot lives beside its containers' keys (`node3` next to `node3.<id>`). */
export const snapshotKey = (node: string) => node;

export const decodeState = (entry: StateEntry): ContainerEvent => parseContainerEvent(JSON.parse(decoder.decode(entry.value)));
export const decodeSnapshot = (entry: StateEntry): NodeSnapshot => parseNodeSnapshot(JSON.parse(decoder.decode(entry.value)));
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

/**
 * A start (or health, rename) older than the node's last snapshot, whose container that snapshot
 * did not list, is history: the container has stopped since. This guards against a redelivered
 * old start after its stop's state was pruned.
 */
async function supersededBySnapshot(bucket: StateBucket, event: ContainerEvent): Promise<boolean> {
  if (event.type === "io.berth.container.stopped") return false;
  const entry = await bucket.get(snapshotKey(event.data.node.name));
  if (!entry) return false;
  const snapshot = decodeSnapshot(entry);
  return BigInt(event.data.timeNano) < BigInt(snapshot.data.timeNano) && !snapshot.data.containers.includes(event.data.container.id);
}

/** Stores `event` as the container's state unless a newer (or the same) Docker event is already there. */
export async function recordIfNewer(bucket: StateBucket, event: ContainerEvent): Promise<void> {
  if (await supersededBySnapshot(bucket, event)) return;
  const key = stateKey(event.data.node.name, event.data.container.id);
  for (;;) {
    const stored = await bucket.get(key);
    if (stored && BigInt(decodeState(stored).data.timeNano) >= BigInt(event.data.timeNano)) return;
    if (await bucket.compareAndSet(key, encode(event), stored?.revision ?? 0)) return;
  }
}

/**
 * Applies the latest stored state of a container (or, when none is stored, `whenAbsent`), then
 * re-reads it: if another worker stored a newer event meanwhile, applies again. Whatever the
 * interleaving, the last apply to finish is of the newest state, so a stop is never overtaken by
 * its own earlier start.
 */
export async function applyLatest(
  bucket: StateBucket,
  key: string,
  whenAbsent: () => ContainerEvent,
  apply: (latest: ContainerEvent) => Promise<void>,
): Promise<number> {
  let stored = await bucket.get(key);
  for (let rounds = 1; ; rounds++) {
    await apply(stored ? decodeState(stored) : whenAbsent());
    const after = await bucket.get(key);
    if ((after?.revision ?? 0) === (stored?.revision ?? 0)) return rounds;
    stored = after;
  }
}
