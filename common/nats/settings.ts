// What berth keeps in JetStream and how (P5, P8): settings both processes read, since whichever
// starts first creates the streams. A variable that is set is also enforced on streams that exist
// with another value; one left unset only gives the value a stream is created with, so a process
// started without it never undoes an operator's choice.

const DAY = 24 * 3600;

export const STREAM_ENV = {
  BERTH_REPLICAS: {
    type: "integer",
    minimum: 1,
    maximum: 5,
    default: 1,
    description: "replicas of the events, dead-letter and repair streams and of the state bucket (3 on a NATS cluster)",
  },
  BERTH_EVENTS_MAX_AGE_SECONDS: {
    type: "integer",
    minimum: 60,
    default: 7 * DAY,
    description: "events older than this are dropped from the stream",
  },
  BERTH_EVENTS_MAX_BYTES: {
    type: "integer",
    minimum: 1024 * 1024,
    default: 1024 ** 3,
    description: "size of the events stream; the oldest go first",
  },
  BERTH_DUPLICATE_WINDOW_SECONDS: {
    type: "integer",
    minimum: 1,
    maximum: DAY,
    default: 120,
    description: "an event published again within this window is dropped as a duplicate",
  },
  BERTH_DEAD_LETTERS_MAX_AGE_SECONDS: {
    type: "integer",
    minimum: 60,
    default: 14 * DAY,
    description: "dead letters older than this are dropped",
  },
  BERTH_DEAD_LETTERS_MAX_MSGS: {
    type: "integer",
    minimum: 1,
    default: 100_000,
    description: "dead letters kept at most; the oldest go first",
  },
  BERTH_ACK_WAIT_SECONDS: {
    type: "integer",
    minimum: 1,
    maximum: 3600,
    default: 4,
    description:
      "a message a handler took and neither acked nor handed back is delivered again after this (a live handler says it is still working every quarter of it)",
  },
  BERTH_MAX_ACK_PENDING: {
    type: "integer",
    minimum: 1,
    default: 10_000,
    description: "messages delivered to handlers and not yet acked, at most, in all",
  },
  BERTH_STATE_TTL_SECONDS: {
    type: "integer",
    minimum: 3600,
    default: 7 * DAY,
    description: "a container state not rewritten for this long expires (reconciliation rewrites live ones at half of it)",
  },
} as const;

export type StreamSettingName = keyof typeof STREAM_ENV;

export type StreamSettings = {
  replicas: number;
  eventsMaxAgeSeconds: number;
  eventsMaxBytes: number;
  duplicateWindowSeconds: number;
  deadLettersMaxAgeSeconds: number;
  deadLettersMaxMsgs: number;
  ackWaitSeconds: number;
  maxAckPending: number;
  stateTtlSeconds: number;
  /** The variables the operator set: enforced on what exists. */
  enforced: ReadonlySet<StreamSettingName>;
};

type StreamEnv = { [K in StreamSettingName]: number };

/** The validated configuration (defaults filled in) and the raw environment, to tell set from defaulted. */
export function streamSettings(config: StreamEnv, env: NodeJS.ProcessEnv): StreamSettings {
  const enforced = new Set((Object.keys(STREAM_ENV) as StreamSettingName[]).filter((k) => env[k] !== undefined && env[k] !== ""));
  return {
    replicas: config.BERTH_REPLICAS,
    eventsMaxAgeSeconds: config.BERTH_EVENTS_MAX_AGE_SECONDS,
    eventsMaxBytes: config.BERTH_EVENTS_MAX_BYTES,
    duplicateWindowSeconds: config.BERTH_DUPLICATE_WINDOW_SECONDS,
    deadLettersMaxAgeSeconds: config.BERTH_DEAD_LETTERS_MAX_AGE_SECONDS,
    deadLettersMaxMsgs: config.BERTH_DEAD_LETTERS_MAX_MSGS,
    ackWaitSeconds: config.BERTH_ACK_WAIT_SECONDS,
    maxAckPending: config.BERTH_MAX_ACK_PENDING,
    stateTtlSeconds: config.BERTH_STATE_TTL_SECONDS,
    enforced,
  };
}

/** The defaults, nothing enforced: tests and tools that only need the streams to exist. */
export const DEFAULT_STREAM_SETTINGS: StreamSettings = streamSettings(
  Object.fromEntries(Object.entries(STREAM_ENV).map(([k, v]) => [k, v.default])) as StreamEnv,
  {},
);
