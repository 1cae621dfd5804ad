// Publishing into berth's streams, each publish confirmed by the stream.
import { streamNames } from "../../schemas/index.ts";
import type { Bus } from "./connect.ts";
import { leaderOrNamed, unlessDenied } from "./errors.ts";

export type PublishResult = { duplicate: boolean; seq: number };

/** The stream that takes `subject`, as an operator reads it in a log line. */
function streamOf(prefix: string, subject: string): string {
  const names = streamNames(prefix);
  const [, , kind] = subject.split(".");
  if (kind === "dlq") return `the dead-letter stream ${names.deadLetters}`;
  if (kind === "repair") return `the repair stream ${names.repairs}`;
  return `the events stream ${names.events}`;
}

function publish(bus: Bus, subject: string, data: Uint8Array, opts: { msgID?: string }) {
  return leaderOrNamed(streamOf(bus.prefix, subject), () =>
    unlessDenied(
      bus,
      (denied) => denied === subject,
      () => bus.js.publish(subject, data, opts),
    ),
  );
}

/** Publishes and waits for the stream's ack; `msgId` lets JetStream drop a duplicate. */
export async function publishDurable(bus: Bus, subject: string, data: Uint8Array, msgId: string): Promise<PublishResult> {
  const ack = await publish(bus, subject, data, { msgID: msgId });
  return { duplicate: ack.duplicate, seq: ack.seq };
}

/** Publishes without a message ID (dead letters, repair requests: each one counts), confirmed by the stream. */
export async function publishStored(bus: Bus, subject: string, data: Uint8Array): Promise<void> {
  await publish(bus, subject, data, {});
}
