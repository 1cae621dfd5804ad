// The only file that imports @nats-io: connection, JetStream set-up, publish, consume and the state bucket.
import { connect, nanos, type NatsConnection } from "@nats-io/transport-node";
import {
  AckPolicy,
  DiscardPolicy,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JsMsg,
} from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import { deadLetterSubjects, eventSubjects, streamNames } from "../schemas/index.ts";

export type NatsSettings = {
  NATS_URL: string;
  NATS_USER?: string;
  NATS_PASSWORD?: string;
  NATS_TOKEN?: string;
  BERTH_PREFIX: string;
};

/** Bounds of what berth keeps in JetStream (P5). */
export const LIMITS = {
  eventsMaxAgeSeconds: 7 * 24 * 3600,
  eventsMaxBytes: 1024 ** 3,
  deadLettersMaxAgeSeconds: 14 * 24 * 3600,
  deadLettersMaxMsgs: 100_000,
  duplicateWindowSeconds: 120,
  ackWaitSeconds: 30,
  maxAckPending: 10_000,
  /** State entries (and delete markers) expire after this; reconciliation rewrites live ones in time. */
  stateTtlSeconds: 7 * 24 * 3600,
} as const;

export type Bus = {
  nc: NatsConnection;
  js: JetStreamClient;
  prefix: string;
  /** Resolves when the connection is closed for good; an Error if it closed because of one. */
  closed(): Promise<void | Error>;
  drain(): Promise<void>;
};

export async function connectBus(settings: NatsSettings, name: string): Promise<Bus> {
  const nc = await connect({
    servers: settings.NATS_URL.split(","),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: true,
    ...(settings.NATS_USER !== undefined ? { user: settings.NATS_USER, pass: settings.NATS_PASSWORD ?? "" } : {}),
    ...(settings.NATS_TOKEN !== undefined ? { token: settings.NATS_TOKEN } : {}),
  });
  return {
    nc,
    js: jetstream(nc),
    prefix: settings.BERTH_PREFIX,
    closed: () => nc.closed(),
    drain: () => nc.drain(),
  };
}

/** JetStream API error code for "stream name already in use" / "consumer already exists" races. */
const ALREADY_IN_USE = [10058, 10148];

function isApiError(err: unknown, codes: readonly number[]): boolean {
  return err instanceof JetStreamApiError && codes.includes(err.code);
}

/**
 * Creates the streams, the shared consumer and the state bucket if missing. Idempotent, and
 * safe when several emitters and handlers start at the same time.
 */
export async function ensureJetStream(bus: Bus): Promise<void> {
  const jsm = await jetstreamManager(bus.nc);
  const names = streamNames(bus.prefix);
  const streams = [
    {
      name: names.events,
      subjects: [eventSubjects(bus.prefix)],
      // Work-queue retention: an event is removed once a handler has acked it.
      retention: RetentionPolicy.Workqueue,
      max_age: nanos(LIMITS.eventsMaxAgeSeconds * 1000),
      max_bytes: LIMITS.eventsMaxBytes,
      discard: DiscardPolicy.Old,
      duplicate_window: nanos(LIMITS.duplicateWindowSeconds * 1000),
    },
    {
      name: names.deadLetters,
      subjects: [deadLetterSubjects(bus.prefix)],
      retention: RetentionPolicy.Limits,
      max_age: nanos(LIMITS.deadLettersMaxAgeSeconds * 1000),
      max_msgs: LIMITS.deadLettersMaxMsgs,
      discard: DiscardPolicy.Old,
    },
  ];
  for (const config of streams) {
    try {
      await jsm.streams.add({ ...config, storage: StorageType.File });
    } catch (err) {
      if (!isApiError(err, ALREADY_IN_USE)) throw err;
    }
  }
  try {
    await jsm.consumers.add(names.events, {
      durable_name: names.consumer,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(LIMITS.ackWaitSeconds * 1000),
      max_deliver: -1,
      max_ack_pending: LIMITS.maxAckPending,
    });
  } catch (err) {
    if (!isApiError(err, ALREADY_IN_USE)) throw err;
  }
  await new Kvm(bus.js).create(names.state, { history: 1, ttl: LIMITS.stateTtlSeconds * 1000 });
}

export type PublishResult = { duplicate: boolean; seq: number };

/** Publishes and waits for the stream's ack; `msgId` lets JetStream drop a duplicate. */
export async function publishDurable(bus: Bus, subject: string, data: Uint8Array, msgId: string): Promise<PublishResult> {
  const ack = await bus.js.publish(subject, data, { msgID: msgId });
  return { duplicate: ack.duplicate, seq: ack.seq };
}

/** Core publish with the server's confirmation that it accepted it into a stream. */
export async function publishDeadLetter(bus: Bus, subject: string, data: Uint8Array): Promise<void> {
  await bus.js.publish(subject, data);
}

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
    ack: () => m.ack(),
    nak: (delayMs) => m.nak(delayMs),
    working: () => m.working(),
  };
}

/**
 * Pulls from the consumer shared by every handler replica. Yields until `signal` aborts; a
 * consume that ends because the server went away is started again.
 */
export async function* pullEvents(bus: Bus, batch: number, signal: AbortSignal): AsyncGenerator<InboundMessage> {
  const names = streamNames(bus.prefix);
  while (!signal.aborted) {
    const consumer = await bus.js.consumers.get(names.events, names.consumer);
    const messages = await consumer.consume({ max_messages: batch });
    const stop = () => void messages.stop();
    signal.addEventListener("abort", stop, { once: true });
    try {
      for await (const m of messages) yield toInbound(m);
    } finally {
      signal.removeEventListener("abort", stop);
    }
  }
}

/** The latest desired state of each container, `<node>.<container-id>` → event JSON (history 1). */
export type StateEntry = { value: Uint8Array; revision: number; created: Date };

export type StateBucket = {
  get(key: string): Promise<StateEntry | undefined>;
  /** Writes only if the key is still at `revision` (0: absent); false when someone else wrote first. */
  compareAndSet(key: string, value: Uint8Array, revision: number): Promise<boolean>;
  /** Deletes only if the key is still at `revision`; false when someone else wrote first. */
  deleteAt(key: string, revision: number): Promise<boolean>;
  /** Keys matching a subject-style filter, e.g. `node3.*`. */
  keys(filter: string): Promise<string[]>;
};

const WRONG_LAST_SEQUENCE = 10071;

export async function openStateBucket(bus: Bus): Promise<StateBucket> {
  const kv: KV = await new Kvm(bus.js).open(streamNames(bus.prefix).state);
  return {
    async get(key) {
      const entry = await kv.get(key);
      return entry && entry.operation === "PUT" ? { value: entry.value, revision: entry.revision, created: entry.created } : undefined;
    },
    async deleteAt(key, revision) {
      try {
        await kv.delete(key, { previousSeq: revision });
        return true;
      } catch (err) {
        if (isApiError(err, [WRONG_LAST_SEQUENCE])) return false;
        throw err;
      }
    },
    async keys(filter) {
      const out: string[] = [];
      for await (const key of await kv.keys(filter)) out.push(key);
      return out;
    },
    async compareAndSet(key, value, revision) {
      try {
        if (revision === 0) await kv.create(key, value);
        else await kv.update(key, value, revision);
        return true;
      } catch (err) {
        if (isApiError(err, [WRONG_LAST_SEQUENCE])) return false;
        throw err;
      }
    },
  };
}

export type StoredMessage = { subject: string; data: Uint8Array };

/** Reads up to `limit` dead letters from the oldest, without consuming them (an ordered consumer). */
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
