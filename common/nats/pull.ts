// Pulling from the durable consumers every handler replica shares.
import type { Bus } from "./connect.ts";
import type { JsMsg } from "./sdk.ts";

/** One message as the handler sees it: no NATS types leak past this file. */
export type InboundMessage = {
  subject: string;
  data: Uint8Array;
  deliveryCount: number;
  ack(): void;
  nak(delayMs: number): void;
  working(): void;
};

function toInbound(m: JsMsg): InboundMessage {
  return {
    subject: m.subject,
    data: m.data,
    deliveryCount: m.info.deliveryCount,
    ack: () => {
      m.ack();
    },
    nak: (delayMs) => {
      m.nak(delayMs);
    },
    working: () => {
      m.working();
    },
  };
}

/**
 * Pulls from the durable consumer `consumer` of `stream`, shared by every handler replica. Yields
 * until `signal` aborts; a consume that ends because the server went away is started again.
 */
export async function* pullMessages(
  bus: Bus,
  at: { stream: string; consumer: string },
  batch: number,
  signal: AbortSignal,
  /** Told when this worker is (true) or is no longer (false) bound to the consumer (readiness). */
  onBound: (bound: boolean) => void = () => undefined,
): AsyncGenerator<InboundMessage> {
  while (!signal.aborted) {
    const consumer = await bus.js.consumers.get(at.stream, at.consumer);
    const messages = await consumer.consume({ max_messages: batch });
    const stop = () => messages.stop();
    signal.addEventListener("abort", stop, { once: true });
    onBound(true);
    try {
      for await (const m of messages) yield toInbound(m);
    } finally {
      onBound(false);
      signal.removeEventListener("abort", stop);
    }
  }
}
