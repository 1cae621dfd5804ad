// The dead letter: why a message will never be applied, and (bounded) the message itself. The
// emitter writes one for an event it refused to publish, the handler for a message it received;
// `berth status` reads them. Built, encoded and read here only.
import type { FromSchema } from "json-schema-to-ts";
import { openRecord, type Known } from "./open.ts";
import { MAX_PROBLEMS, MAX_PROBLEM_TEXT, clipProblems, clipText } from "./errors.ts";

/**
 * `emitter-schema`: the emitter refused its own event. The others are the handler's: `schema` (not
 * an event of the contract), `subject-mismatch` (the subject names another node or kind),
 * `unknown-node` (no agent for the node), `agent-rejected` (the agent refused it for good).
 */
export const DEAD_LETTER_REASONS = ["schema", "subject-mismatch", "unknown-node", "agent-rejected", "emitter-schema"] as const;

/** The most of the refused message a letter carries: its first 64 KiB. */
export const MAX_LETTER_PAYLOAD_BYTES = 64 * 1024;
/** Those bytes as text: UTF-8 decoded, or base64 (4 characters per 3 bytes) when they are not UTF-8. */
const MAX_PAYLOAD_TEXT = Math.ceil(MAX_LETTER_PAYLOAD_BYTES / 3) * 4;
const MAX_SUBJECT = 1024;

export const deadLetterSchema = {
  $id: "https://berth.dev/schemas/dead-letter.v1.json",
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "berth dead letter",
  ...openRecord(32),
  required: ["reason", "problems", "subject", "payload", "encoding", "truncated", "at"],
  properties: {
    reason: { enum: DEAD_LETTER_REASONS },
    problems: { type: "array", maxItems: MAX_PROBLEMS + 1, items: { type: "string", maxLength: MAX_PROBLEM_TEXT + 1 } },
    /** The subject the message arrived on (handler), or the one the event would have been published on (emitter). */
    subject: { type: "string", maxLength: MAX_SUBJECT + 1 },
    /** How many times the handlers' consumer had delivered the message; absent in the emitter's letters. */
    deliveryCount: { type: "integer", minimum: 1 },
    /** The message's first MAX_LETTER_PAYLOAD_BYTES bytes, as `encoding` says. */
    payload: { type: "string", maxLength: MAX_PAYLOAD_TEXT },
    encoding: { enum: ["utf-8", "base64"] },
    /** The message was longer than the payload. */
    truncated: { type: "boolean" },
    at: { type: "string", maxLength: 64 },
  },
} as const;

export type DeadLetter = Known<FromSchema<typeof deadLetterSchema>>;
export type DeadLetterReason = DeadLetter["reason"];

/** The message a letter is about: where it was (or would have been) published, and its bytes. */
export type RefusedMessage = { subject: string; data: Uint8Array; deliveryCount?: number };

/** The letter for `message`, refused for `reason`; every field within the schema's bounds. */
export function toDeadLetter(reason: DeadLetterReason, problems: readonly string[], message: RefusedMessage, at = new Date()): DeadLetter {
  const head = message.data.subarray(0, MAX_LETTER_PAYLOAD_BYTES);
  let payload: string;
  let encoding: "utf-8" | "base64" = "utf-8";
  try {
    payload = new TextDecoder("utf-8", { fatal: true }).decode(head);
  } catch {
    payload = Buffer.from(head).toString("base64");
    encoding = "base64";
  }
  return {
    reason,
    problems: clipProblems(problems),
    subject: clipText(message.subject, MAX_SUBJECT),
    ...(message.deliveryCount === undefined ? {} : { deliveryCount: message.deliveryCount }),
    payload,
    encoding,
    truncated: message.data.byteLength > MAX_LETTER_PAYLOAD_BYTES,
    at: at.toISOString(),
  };
}

export const encodeDeadLetter = (letter: DeadLetter): Uint8Array => new TextEncoder().encode(JSON.stringify(letter));
