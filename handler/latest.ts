// Per-container latest desired state, shared by all workers through the state bucket (P3).
import type { StateBucket } from "../common/nats.ts";
import { parseContainerEvent, type ContainerEvent } from "../schemas/index.ts";

export function stateKey(event: ContainerEvent): string {
  return `${event.data.node.name}.${event.data.container.id}`;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Stores `event` as the container's state unless a newer (or the same) Docker event is already there. */
export async function recordIfNewer(bucket: StateBucket, event: ContainerEvent): Promise<void> {
  const key = stateKey(event);
  for (;;) {
    const stored = await bucket.get(key);
    if (stored) {
      const current = parseContainerEvent(JSON.parse(decoder.decode(stored.value)));
      if (BigInt(current.data.timeNano) >= BigInt(event.data.timeNano)) return;
    }
    if (await bucket.compareAndSet(key, encoder.encode(JSON.stringify(event)), stored?.revision ?? 0)) return;
  }
}

/**
 * Applies the latest stored state of the event's container, then re-reads it: if another worker
 * stored a newer event meanwhile, applies again. Whatever the interleaving, the last apply to
 * finish is of the newest event, so a stop is never overtaken by its own earlier start.
 */
export async function applyLatest(
  bucket: StateBucket,
  event: ContainerEvent,
  apply: (latest: ContainerEvent) => Promise<void>,
): Promise<number> {
  const key = stateKey(event);
  let stored = await bucket.get(key);
  for (let rounds = 1; ; rounds++) {
    const latest = stored ? parseContainerEvent(JSON.parse(decoder.decode(stored.value))) : event;
    await apply(latest);
    const after = await bucket.get(key);
    if ((after?.revision ?? 0) === (stored?.revision ?? 0)) return rounds;
    stored = after;
  }
}
