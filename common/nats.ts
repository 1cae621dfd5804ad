// The only file that imports @nats-io: connection, JetStream set-up, publish, consume and the state bucket.
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import {
  AuthorizationError,
  InvalidArgumentError,
  PermissionViolationError,
  connect,
  credsAuthenticator,
  nanos,
  nkeyAuthenticator,
  type ConnectionOptions,
  type NatsConnection,
} from "@nats-io/transport-node";
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
import { ConfigError } from "./config.ts";

export type NatsSettings = {
  NATS_URL: string;
  NATS_USER?: string;
  NATS_PASSWORD?: string;
  NATS_TOKEN?: string;
  /** A creds file (user JWT + seed), or an nkey seed file. */
  NATS_CREDS?: string;
  NATS_NKEY?: string;
  /** TLS: the CA that signed the server's certificate; a client certificate and key when the server asks. */
  NATS_CA?: string;
  NATS_CERT?: string;
  NATS_KEY?: string;
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
  closed(): Promise<Error | undefined>;
  drain(): Promise<void>;
  /** Calls `listener` with each subject the server refused this connection to publish to. */
  onDenied(listener: (denial: NatsPermissionError) => void): () => void;
};

/**
 * The server refused a publish, or the subscription to a reply inbox (its users' `permissions`).
 * berth turns the server's report into this error, naming the subject, instead of a timeout.
 */
export class NatsPermissionError extends Error {
  override readonly name = "NatsPermissionError";
  readonly code = "E_NATS_PERMISSION";
  readonly subject: string;
  readonly operation: "publish" | "subscribe";
  constructor(subject: string, serverText: string, operation: "publish" | "subscribe" = "publish") {
    super(
      `NATS refused this connection permission to ${operation} ${operation === "publish" ? "to" : "to its inbox"} "${subject}" (${serverText}): check this user's permissions in the nats-server configuration`,
    );
    this.subject = subject;
    this.operation = operation;
  }
}

/** Credentials and TLS from the settings; file contents are read here, never logged. */
function authOptions(settings: NatsSettings): Partial<ConnectionOptions> {
  const options: Partial<ConnectionOptions> = {};
  if (settings.NATS_USER !== undefined) Object.assign(options, { user: settings.NATS_USER, pass: settings.NATS_PASSWORD ?? "" });
  if (settings.NATS_TOKEN !== undefined) options.token = settings.NATS_TOKEN;
  if (settings.NATS_CREDS !== undefined) options.authenticator = credsAuthenticator(readFileSync(settings.NATS_CREDS));
  if (settings.NATS_NKEY !== undefined)
    options.authenticator = nkeyAuthenticator(new TextEncoder().encode(readFileSync(settings.NATS_NKEY, "utf8").trim()));
  if (settings.NATS_CA !== undefined || settings.NATS_CERT !== undefined) {
    options.tls = {
      ...(settings.NATS_CA !== undefined ? { caFile: settings.NATS_CA } : {}),
      ...(settings.NATS_CERT !== undefined ? { certFile: settings.NATS_CERT } : {}),
      ...(settings.NATS_KEY !== undefined ? { keyFile: settings.NATS_KEY } : {}),
    };
  }
  return options;
}

/** Node's codes for a TLS handshake or server certificate that fails: waiting cannot fix them. */
const TLS_FAILURE =
  /^(ERR_TLS_|ERR_SSL_|UNABLE_TO_|SELF_SIGNED_CERT|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_|HOSTNAME_MISMATCH|INVALID_CA|INVALID_PURPOSE)/;

/**
 * A refusal no retry can fix: wrong credentials, an untrusted server certificate, TLS asked of a
 * server without it. Reported as a configuration problem (exit 2), never waited on in silence.
 */
function refusal(err: unknown, settings: NatsSettings): ConfigError | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e instanceof AuthorizationError) {
      const who =
        settings.NATS_USER !== undefined
          ? ` of user "${settings.NATS_USER}": check NATS_USER and NATS_PASSWORD`
          : ": check NATS_TOKEN, NATS_CREDS or NATS_NKEY";
      return new ConfigError([`NATS refused the credentials (${e.message})${who}`]);
    }
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === "string" && TLS_FAILURE.test(code)) {
      const fix =
        settings.NATS_CA === undefined
          ? "set NATS_CA to the CA certificate that signed it"
          : `NATS_CA (${settings.NATS_CA}) does not hold the CA that signed it`;
      return new ConfigError([`NATS server's TLS certificate was not accepted (${code}: ${e.message}): ${fix}`]);
    }
    if (e instanceof InvalidArgumentError) return new ConfigError([`NATS: ${e.message}`]);
  }
  return undefined;
}

/**
 * The first connection: retried while the server cannot be reached (it may start after berth),
 * but a refusal of credentials or certificate stops the process with the reason.
 */
async function connectFirst(options: ConnectionOptions, settings: NatsSettings): Promise<NatsConnection> {
  for (;;) {
    try {
      return await connect({ ...options, waitOnFirstConnect: false });
    } catch (err) {
      const refused = refusal(err, settings);
      if (refused) throw refused;
      await sleep(options.reconnectTimeWait ?? 250);
    }
  }
}

export async function connectBus(settings: NatsSettings, name: string): Promise<Bus> {
  const nc = await connectFirst(
    {
      servers: settings.NATS_URL.split(","),
      name,
      // Replies come to `_INBOX.<name>.…`, so nats-server permissions can give each process its own inboxes.
      inboxPrefix: `_INBOX.${name}`,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      // Otherwise every request (each KV read and write) builds two Errors with stack traces in
      // advance, for a context berth never logs: about a tenth of a busy handler's CPU (npm run bench).
      noAsyncTraces: true,
      ...authOptions(settings),
    },
    settings,
  );
  const listeners = new Set<(denial: NatsPermissionError) => void>();
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type !== "error" || !(s.error instanceof PermissionViolationError) || s.error.operation !== "publish") continue;
      const denial = new NatsPermissionError(s.error.subject, s.error.message);
      for (const listener of listeners) listener(denial);
    }
  })();
  return {
    nc,
    js: jetstream(nc),
    prefix: settings.BERTH_PREFIX,
    closed: async () => (await nc.closed()) ?? undefined,
    drain: () => nc.drain(),
    onDenied(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
}

/** Runs `work`, failing fast with a NatsPermissionError when the server refuses a publish or inbox `work` depends on. */
async function unlessDenied<T>(bus: Bus, match: (subject: string) => boolean, work: () => Promise<T>): Promise<T> {
  let stop = () => {};
  const denied = new Promise<never>((_, reject) => {
    stop = bus.onDenied((denial) => match(denial.subject) && reject(denial));
  });
  try {
    return await Promise.race([work(), denied]);
  } catch (err) {
    // The client also fails the request itself, with the server's text as the cause: the same
    // report, also when the refusal is of the inbox its reply would come to.
    const cause = err instanceof Error ? err.cause : undefined;
    if (cause instanceof PermissionViolationError) {
      throw new NatsPermissionError(cause.subject, cause.message, cause.operation === "publish" ? "publish" : "subscribe");
    }
    throw err;
  } finally {
    stop();
  }
}

/** JetStream API error code for "stream name already in use" / "consumer already exists" races. */
const ALREADY_IN_USE = [10058, 10148];

function isApiError(err: unknown, codes: readonly number[]): boolean {
  return err instanceof JetStreamApiError && codes.includes(err.code);
}

/** JetStream API error codes for "stream not found" and "consumer not found". */
const NOT_FOUND = [10059, 10014];

/** Looks first, creates only what is missing: a user allowed only to read the JetStream API works once the rest exists. */
async function unlessExists(look: () => Promise<unknown>, create: () => Promise<unknown>): Promise<void> {
  try {
    await look();
    return;
  } catch (err) {
    if (!isApiError(err, NOT_FOUND)) throw err;
  }
  try {
    await create();
  } catch (err) {
    if (!isApiError(err, ALREADY_IN_USE)) throw err;
  }
}

/**
 * Creates the streams, the shared consumer and the state bucket if missing. Idempotent, and
 * safe when several emitters and handlers start at the same time. A refused JetStream API call
 * fails at once with a NatsPermissionError naming it (instead of a timeout).
 */
export function ensureJetStream(bus: Bus): Promise<void> {
  return unlessDenied(
    bus,
    (subject) => subject.startsWith("$JS.API."),
    () => ensureJetStreamNow(bus),
  );
}

async function ensureJetStreamNow(bus: Bus): Promise<void> {
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
    await unlessExists(
      () => jsm.streams.info(config.name),
      () => jsm.streams.add({ ...config, storage: StorageType.File }),
    );
  }
  await unlessExists(
    () => jsm.consumers.info(names.events, names.consumer),
    () =>
      jsm.consumers.add(names.events, {
        durable_name: names.consumer,
        ack_policy: AckPolicy.Explicit,
        ack_wait: nanos(LIMITS.ackWaitSeconds * 1000),
        max_deliver: -1,
        max_ack_pending: LIMITS.maxAckPending,
      }),
  );
  await new Kvm(bus.js).create(names.state, { history: 1, ttl: LIMITS.stateTtlSeconds * 1000 });
}

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

/** Core publish with the server's confirmation that it accepted it into a stream. */
export async function publishDeadLetter(bus: Bus, subject: string, data: Uint8Array): Promise<void> {
  await unlessDenied(
    bus,
    (denied) => denied === subject,
    () => bus.js.publish(subject, data),
  );
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
export async function* pullEvents(
  bus: Bus,
  batch: number,
  signal: AbortSignal,
  /** Told when this worker is (true) or is no longer (false) bound to the consumer (readiness). */
  onBound: (bound: boolean) => void = () => undefined,
): AsyncGenerator<InboundMessage> {
  const names = streamNames(bus.prefix);
  while (!signal.aborted) {
    const consumer = await bus.js.consumers.get(names.events, names.consumer);
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

/** The latest desired state of each container, `<node>.<container-id>` → event JSON (history 1). */
export type StateEntry = { value: Uint8Array; revision: number; created: Date };

export type StateBucket = {
  get(key: string): Promise<StateEntry | undefined>;
  /** Writes only if the key is still at `revision` (0: absent): the new revision, or undefined when someone else wrote first. */
  compareAndSet(key: string, value: Uint8Array, revision: number): Promise<number | undefined>;
  /** Deletes only if the key is still at `revision`; false when someone else wrote first. */
  deleteAt(key: string, revision: number): Promise<boolean>;
  /** The entry of every key matching `filter`, read in one pass over the bucket instead of one request per key. */
  entriesMatching(filter: string): Promise<Map<string, StateEntry>>;
};

const WRONG_LAST_SEQUENCE = 10071;

/**
 * Direct gets answer from the stream without the JetStream API's JSON and base64: a quarter of a
 * busy handler's CPU and a third of nats-server's per event (npm run bench). Any replica may answer
 * one, possibly a write behind, and the re-read after applying (P3) needs the latest revision: so
 * direct gets only on a bucket of one replica, which is how ensureJetStream creates it.
 */
async function directGetsAreCurrent(kv: KV): Promise<boolean> {
  const status = await kv.status();
  return status.streamInfo.config.allow_direct && status.replicas === 1;
}

export async function openStateBucket(bus: Bus): Promise<StateBucket> {
  const kvm = new Kvm(bus.js);
  const name = streamNames(bus.prefix).state;
  const kv: KV = await kvm.open(name, { allow_direct: await directGetsAreCurrent(await kvm.open(name)) });
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
    async entriesMatching(filter) {
      const out = new Map<string, StateEntry>();
      // The bucket keeps one revision per key, so its history is each key's latest entry (or delete marker).
      for await (const e of await kv.history({ key: filter })) {
        if (e.operation === "PUT") out.set(e.key, { value: e.value, revision: e.revision, created: e.created });
        else out.delete(e.key);
      }
      return out;
    },
    async compareAndSet(key, value, revision) {
      try {
        return revision === 0 ? await kv.create(key, value) : await kv.update(key, value, revision);
      } catch (err) {
        if (isApiError(err, [WRONG_LAST_SEQUENCE])) return undefined;
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

/** Tracks the connection: false from a disconnect until the next reconnect, and once closed. */
export function watchConnection(bus: Bus): () => boolean {
  let connected = true;
  void (async () => {
    for await (const s of bus.nc.status()) {
      if (s.type === "disconnect") connected = false;
      else if (s.type === "reconnect") connected = true;
    }
  })().catch(() => undefined);
  return () => connected && !bus.nc.isClosed();
}

/** The shared consumer's backlog: not yet delivered (`pending`) and delivered but not acked. */
export type ConsumerLag = { pending: number; ackPending: number; redelivered: number };

export async function consumerLag(bus: Bus): Promise<ConsumerLag> {
  const names = streamNames(bus.prefix);
  const info = await (await jetstreamManager(bus.nc)).consumers.info(names.events, names.consumer);
  return { pending: info.num_pending, ackPending: info.num_ack_pending, redelivered: info.num_redelivered };
}

export type StreamCounts = { messages: number; bytes: number; bySubject: Record<string, number> };

/** Message counts of berth's event stream and dead-letter stream, the latter per subject (reason). */
export async function streamCounts(bus: Bus): Promise<{ events: StreamCounts; deadLetters: StreamCounts }> {
  const jsm = await jetstreamManager(bus.nc);
  const names = streamNames(bus.prefix);
  const read = async (name: string, perSubject: boolean): Promise<StreamCounts> => {
    const info = await jsm.streams.info(name, perSubject ? { subjects_filter: ">" } : undefined);
    return { messages: info.state.messages, bytes: info.state.bytes, bySubject: { ...(info.state.subjects ?? {}) } };
  };
  return { events: await read(names.events, false), deadLetters: await read(names.deadLetters, true) };
}

/** The newest `limit` dead letters, oldest first (read by sequence: nothing is consumed). */
export async function lastDeadLetters(bus: Bus, limit: number): Promise<(StoredMessage & { time: Date })[]> {
  const jsm = await jetstreamManager(bus.nc);
  const name = streamNames(bus.prefix).deadLetters;
  const { state } = await jsm.streams.info(name);
  const out: (StoredMessage & { time: Date })[] = [];
  for (let seq = state.last_seq; seq >= state.first_seq && seq > 0 && out.length < limit; seq--) {
    const m = await jsm.streams.getMessage(name, { seq }).catch(() => null);
    if (m) out.unshift({ subject: m.subject, data: m.data, time: m.time });
  }
  return out;
}
