import { publishStored, type Bus, type InboundMessage } from "../common/nats/index.ts";
import { deadLetterSubject, encodeDeadLetter, toDeadLetter, type DeadLetterReason as LetterReason } from "../schemas/index.ts";

/** What a dead letter is about: a message received, or a container state a repair could not apply. */
export type DeadLetterSource = Pick<InboundMessage, "subject" | "data" | "deliveryCount">;

/** Why the handler can never apply a message; the last token of its dead-letter subject. */
export type DeadLetterReason = Exclude<LetterReason, "emitter-schema">;

/** The dead letter (schemas/dead-letter.ts): the reason, every problem, and the message (bounded). */
export function deadLetterBody(message: DeadLetterSource, reason: DeadLetterReason, problems: string[]): Uint8Array {
  return encodeDeadLetter(toDeadLetter(reason, problems, message));
}

export async function deadLetter(bus: Bus, message: DeadLetterSource, reason: DeadLetterReason, problems: string[]): Promise<void> {
  await publishStored(bus, deadLetterSubject(bus.prefix, reason), deadLetterBody(message, reason, problems));
}
