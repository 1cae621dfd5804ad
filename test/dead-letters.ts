// Tests read the dead-letter stream from its oldest message without consuming it.
import type { Bus, StoredMessage } from "../common/nats/index.ts";
import { streamNames } from "../schemas/index.ts";

/** Up to `limit` dead letters from the oldest (an ordered consumer: nothing is consumed). */
export async function readDeadLetters(bus: Bus, limit: number): Promise<StoredMessage[]> {
  const consumer = await bus.js.consumers.get(streamNames(bus.prefix).deadLetters);
  const batch = await consumer.fetch({ max_messages: limit, expires: 1000 });
  const out: StoredMessage[] = [];
  for await (const m of batch) {
    out.push({ subject: m.subject, data: m.data });
    if (out.length >= limit || m.info.pending === 0) break;
  }
  return out;
}
