import { publishDeadLetter, type Bus, type InboundMessage } from "../common/nats.ts";
import { deadLetterSubject, encodeDeadLetter, toDeadLetter, type DeadLetterReason as LetterReason } from "../schemas/index.ts";

/** Why the handler can never apply a message; the last token of its dead-letter subject. */
export type DeadLetterReason = Exclude<LetterReason, "emitter-schema">;

/** The dead letter (schemas/dead-letter.ts): the reason, every problem, and the message received (bounded). */
export function deadLetterBody(message: InboundMessage, reason: DeadLetterReason, problems: string[]): Uint8Array {
  return encodeDeadLetter(toDeadLetter(reason, problems, message));
}

export async function deadLetter(bus: Bus, message: InboundMessage, reason: DeadLetterReason, problems: string[]): Promise<void> {
  await publishDeadLetter(bus, deadLetterSubject(bus.prefix, reason), deadLetterBody(message, reason, problems));
}
