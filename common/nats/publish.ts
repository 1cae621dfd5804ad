// Publishing into berth's streams, each publish confirmed by the stream.
import type { Bus } from "./connect.ts";
import { unlessDenied } from "./errors.ts";

export type PublishResult = { duplicate: boolean; seq: number };

/** Publishes and waits for the stream's ack; `msgId` lets JetStream drop a duplicate. */
export async function publishDurable(bus: Bus, subject: string, data: Uint8Array, msgId: string): Promise<PublishResult> {
  const ack = await unlessDenied(
    bus,
    (denied) => denied === subject,
    () => bus.js.publish(subject, data, { msgID: msgId }),
  );
  return { duplicate: ack.duplicate, seq: ack.seq };
}

/** Publishes without a message ID (dead letters, repair requests: each one counts), confirmed by the stream. */
export async function publishStored(bus: Bus, subject: string, data: Uint8Array): Promise<void> {
  await unlessDenied(
    bus,
    (denied) => denied === subject,
    () => bus.js.publish(subject, data),
  );
}
