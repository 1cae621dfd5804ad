import { publishDeadLetter, type Bus, type InboundMessage } from "../common/nats.ts";
import { deadLetterSubject } from "../schemas/index.ts";

/** Why a message can never be applied; the last token of its dead-letter subject. */
export type DeadLetterReason = "schema" | "subject-mismatch" | "unknown-node" | "agent-rejected";

const MAX_PAYLOAD_TEXT = 64 * 1024;

/** The dead letter: the reason, every problem, and the original message (as text, bounded). */
export function deadLetterBody(message: InboundMessage, reason: DeadLetterReason, problems: string[]): Uint8Array {
  let payload: string;
  let encoding: "utf-8" | "base64" = "utf-8";
  try {
    payload = new TextDecoder("utf-8", { fatal: true }).decode(message.data.subarray(0, MAX_PAYLOAD_TEXT));
  } catch {
    payload = Buffer.from(message.data.subarray(0, MAX_PAYLOAD_TEXT)).toString("base64");
    encoding = "base64";
  }
  const letter = {
    reason,
    problems,
    subject: message.subject,
    deliveryCount: message.deliveryCount,
    payload,
    encoding,
    truncated: message.data.byteLength > MAX_PAYLOAD_TEXT,
    at: new Date().toISOString(),
  };
  return new TextEncoder().encode(JSON.stringify(letter));
}

export async function deadLetter(bus: Bus, message: InboundMessage, reason: DeadLetterReason, problems: string[]): Promise<void> {
  await publishDeadLetter(bus, deadLetterSubject(bus.prefix, reason), deadLetterBody(message, reason, problems));
}
