// Pulling from the durable consumers every handler replica shares: pull requests that notice in
// seconds when the server holding them is gone, progress said for every message held, and what is
// not yet applied handed back at once when the handler stops.
import type { Bus } from "./connect.ts";
import type { JsMsg } from "./sdk.ts";

/** One message as the handler sees it: no NATS types leak past this file. */
export type InboundMessage = { subject: string; data: Uint8Array; deliveryCount: number; ack(): void; nak(delayMs: number): void };

/**
 * A pull request lives on the server leading the consumer; if that server crashes the request dies
 * with it, silently. The server sends a heartbeat every PULL_HEARTBEAT_MS to a waiting request; two
 * missed and the client pulls again, every PULL_HEARTBEAT_MS until a (new) leader answers — so a
 * handler pulls from the new leader within about a second of its election (the library's defaults,
 * 15 s heartbeats and 30 s requests, took 30–40 s). A request also ends after PULL_EXPIRES_MS and is
 * renewed: a frozen handler (SIGSTOP) stops taking messages then, before its first messages are
 * delivered again (the ack wait), so those go to the others and not back to it.
 * Cost per idle handler: per consumer (it has two) one heartbeat a second and one expiry and
 * renewal every 4 s: 3 small messages a second in all (docs/scaling.md).
 */
export const PULL_HEARTBEAT_MS = 1_000;
export const PULL_EXPIRES_MS = 4_000;

/** Progress is said this many times per ack wait, so one late timer never costs a message. */
const PROGRESS_PER_ACK_WAIT = 4;

/**
 * Tells NATS the handler is still working on `m` every `everyMs` until it is settled (acked or
 * handed back): a live handler's slow work (an agent answering in seconds, a node's repair) is never
 * delivered to another as if it were lost, so the ack wait can be short. A frozen or dead handler
 * says nothing, and its messages go to another after the ack wait.
 */
function toInbound(m: JsMsg, everyMs: number): InboundMessage {
  const progress = setInterval(() => m.working(), everyMs);
  progress.unref();
  return {
    subject: m.subject,
    data: m.data,
    deliveryCount: m.info.deliveryCount,
    ack: () => {
      clearInterval(progress);
      m.ack();
    },
    nak: (delayMs) => {
      clearInterval(progress);
      m.nak(delayMs);
    },
  };
}

/**
 * Pulls from the durable consumer `consumer` of `stream`, shared by every handler replica, at most
 * `batch` messages held at once. Yields until `signal` aborts; then no more is taken, and what was
 * delivered but not yet yielded is handed back (nak without delay) for another handler to take at
 * once. A consume that ends because the connection closed is started again.
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
    const ackWaitMs = ((await consumer.info(true)).config.ack_wait ?? 30e9) / 1e6; // 30 s: the server's default
    const progressEvery = Math.max(250, ackWaitMs / PROGRESS_PER_ACK_WAIT);
    // bind: on missed heartbeats pull again at once, without first asking for the consumer's info
    // (which, while the consumer has no leader, fails and is retried only after a whole request's expiry).
    const messages = await consumer.consume({
      max_messages: batch,
      expires: PULL_EXPIRES_MS,
      idle_heartbeat: PULL_HEARTBEAT_MS,
      bind: true,
    });
    const delivered = messages[Symbol.asyncIterator]();
    const state = { handingBack: false };
    const handBack = async () => {
      state.handingBack = true;
      messages.stop(); // no more deliveries; what is queued before the stop is still read below
      for (let next = await delivered.next(); !next.done; next = await delivered.next()) next.value.nak();
    };
    const stop = () => void handBack().catch(() => undefined); // a closed connection: NATS redelivers after the ack wait
    signal.addEventListener("abort", stop, { once: true });
    onBound(true);
    try {
      for (let next = await delivered.next(); !next.done; next = await delivered.next()) {
        if (state.handingBack) next.value.nak();
        else yield toInbound(next.value, progressEvery);
      }
    } finally {
      onBound(false);
      signal.removeEventListener("abort", stop);
      messages.stop(); // also when the caller stopped early
    }
  }
}
