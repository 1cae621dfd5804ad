// Creates berth's streams, consumers and state bucket when missing, and brings what exists to the
// settings the operator set (common/nats/settings.ts). Idempotent, and safe when several emitters
// and handlers start at the same time.
import { deadLetterSubjects, eventSubjects, repairSubjects, streamNames } from "../../schemas/index.ts";
import { NOT_WAITING, waitUntilUp, type Waiting } from "../waiting.ts";
import type { Bus } from "./connect.ts";
import { API_ERROR, isApiError, unlessDenied } from "./errors.ts";
import { bringTo, valueOf, type SetupNote, type Wanted } from "./reconfigure.ts";
import { pendingReason, replicasRefused } from "./setup-refusals.ts";
import { DEFAULT_STREAM_SETTINGS, type StreamSettings } from "./settings.ts";
import {
  AckPolicy,
  DiscardPolicy,
  Kvm,
  RetentionPolicy,
  StorageType,
  jetstreamManager,
  nanos,
  type ConsumerConfig,
  type JetStreamManager,
  type StreamConfig,
} from "./sdk.ts";

/**
 * A repair request held by a handler that died or froze goes to another after this. A repair pass of
 * one node may take much longer with a slow agent: the pull layer tells NATS it is still working.
 */
export const REPAIR_ACK_WAIT_SECONDS = 10;

export type { SetupNote } from "./reconfigure.ts";

const seconds = (s: number) => nanos(s * 1000);

function streamsOf(prefix: string, s: StreamSettings) {
  const names = streamNames(prefix);
  const replicas = { value: s.replicas, setting: "BERTH_REPLICAS" } as const;
  const events: Wanted<StreamConfig> = {
    num_replicas: replicas,
    max_age: { value: seconds(s.eventsMaxAgeSeconds), setting: "BERTH_EVENTS_MAX_AGE_SECONDS" },
    max_bytes: { value: s.eventsMaxBytes, setting: "BERTH_EVENTS_MAX_BYTES" },
    duplicate_window: { value: seconds(s.duplicateWindowSeconds), setting: "BERTH_DUPLICATE_WINDOW_SECONDS" },
  };
  const deadLetters: Wanted<StreamConfig> = {
    num_replicas: replicas,
    max_age: { value: seconds(s.deadLettersMaxAgeSeconds), setting: "BERTH_DEAD_LETTERS_MAX_AGE_SECONDS" },
    max_msgs: { value: s.deadLettersMaxMsgs, setting: "BERTH_DEAD_LETTERS_MAX_MSGS" },
  };
  return [
    {
      name: names.events,
      // Work-queue retention: an event is removed once a handler has acked it.
      fixed: { subjects: [eventSubjects(prefix)], retention: RetentionPolicy.Workqueue, discard: DiscardPolicy.Old },
      wanted: events,
    },
    {
      name: names.deadLetters,
      fixed: { subjects: [deadLetterSubjects(prefix)], retention: RetentionPolicy.Limits, discard: DiscardPolicy.Old },
      wanted: deadLetters,
    },
    {
      name: names.repairs,
      // At most one request per node: a newer one replaces the one waiting, whatever piled up behind a dead agent.
      fixed: {
        subjects: [repairSubjects(prefix)],
        retention: RetentionPolicy.Workqueue,
        discard: DiscardPolicy.Old,
        max_msgs_per_subject: 1,
        max_age: seconds(s.eventsMaxAgeSeconds),
      },
      wanted: { num_replicas: replicas } satisfies Wanted<StreamConfig>,
    },
  ];
}

async function ensureStream(jsm: JetStreamManager, s: StreamSettings, notes: SetupNote[], stream: ReturnType<typeof streamsOf>[number]) {
  let info;
  try {
    info = await jsm.streams.info(stream.name);
  } catch (err) {
    if (!isApiError(err, [API_ERROR.streamNotFound])) throw err;
    try {
      await jsm.streams.add({ name: stream.name, storage: StorageType.File, ...stream.fixed, ...valueOf(stream.wanted) });
      notes.push({ level: "info", text: `created stream ${stream.name} (${s.replicas} replica${s.replicas === 1 ? "" : "s"})` });
    } catch (addErr) {
      if (isApiError(addErr, [API_ERROR.streamNameInUse])) return; // another process created it meanwhile
      throw replicasRefused(addErr, stream.name, s.replicas) ?? addErr;
    }
    return;
  }
  await bringTo(`stream ${stream.name}`, info.config, stream.wanted, s, notes, (config) => jsm.streams.update(stream.name, config));
}

/**
 * A single nats-server takes num_replicas 3 in an update without a word and keeps one copy: said
 * in one line, never a silent mismatch. (Creating such a stream it refuses: replicasRefused.)
 */
async function noteSingleServer(jsm: JetStreamManager, events: string, s: StreamSettings, notes: SetupNote[]) {
  if (!s.enforced.has("BERTH_REPLICAS") || s.replicas === 1 || (await jsm.streams.info(events)).cluster !== undefined) return;
  notes.push({
    level: "warn",
    text: `BERTH_REPLICAS=${s.replicas}, but NATS is a single server, not a cluster: berth's streams and state bucket keep one copy`,
  });
}

async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  name: string,
  fixed: Partial<ConsumerConfig>,
  wanted: Wanted<ConsumerConfig>,
  s: StreamSettings,
  notes: SetupNote[],
) {
  let info;
  try {
    info = await jsm.consumers.info(stream, name);
  } catch (err) {
    if (!isApiError(err, [API_ERROR.consumerNotFound])) throw err;
    try {
      await jsm.consumers.add(stream, {
        durable_name: name,
        ack_policy: AckPolicy.Explicit,
        max_deliver: -1,
        ...fixed,
        ...valueOf(wanted),
      });
    } catch (addErr) {
      if (!isApiError(addErr, [API_ERROR.consumerExists])) throw replicasRefused(addErr, `consumer ${name}`, s.replicas) ?? addErr;
    }
    return;
  }
  await bringTo(`consumer ${name}`, info.config, wanted, s, notes, (config) => jsm.consumers.update(stream, name, config));
}

async function ensureStateBucket(bus: Bus, jsm: JetStreamManager, s: StreamSettings, notes: SetupNote[]) {
  const bucket = streamNames(bus.prefix).state;
  const streamName = `KV_${bucket}`;
  try {
    const info = await jsm.streams.info(streamName);
    const wanted: Wanted<StreamConfig> = {
      num_replicas: { value: s.replicas, setting: "BERTH_REPLICAS" },
      max_age: { value: seconds(s.stateTtlSeconds), setting: "BERTH_STATE_TTL_SECONDS" },
    };
    await bringTo(`state bucket ${bucket}`, info.config, wanted, s, notes, (config) => jsm.streams.update(streamName, config));
  } catch (err) {
    if (!isApiError(err, [API_ERROR.streamNotFound])) throw err;
    try {
      await new Kvm(bus.js).create(bucket, { history: 1, ttl: s.stateTtlSeconds * 1000, replicas: s.replicas });
      notes.push({ level: "info", text: `created state bucket ${bucket} (${s.replicas} replica${s.replicas === 1 ? "" : "s"})` });
    } catch (addErr) {
      if (isApiError(addErr, [API_ERROR.streamNameInUse])) return;
      throw replicasRefused(addErr, `state bucket ${bucket}`, s.replicas) ?? addErr;
    }
  }
}

/** What to check when JetStream does not answer, by the reason. */
const jetStreamHint = (reason: string) =>
  /not enabled|no responders|503/i.test(reason)
    ? "is JetStream on? start nats-server with -js, and give the account berth uses `jetstream: enabled`"
    : "JetStream answers late: a NATS cluster electing a leader or moving replicas; it passes";

/**
 * Creates the streams, the consumers and the state bucket if missing; brings those that exist to
 * the settings the operator set. A refused JetStream API call fails at once with a
 * NatsPermissionError naming it (instead of a timeout). A JetStream that does not answer yet (a
 * cluster electing leaders, or moving replicas after a change above; a server without -js) is
 * waited for, as `waiting` says. Resolves with what it did, to be logged.
 */
export async function ensureJetStream(
  bus: Bus,
  s: StreamSettings = DEFAULT_STREAM_SETTINGS,
  waiting: Waiting = NOT_WAITING,
): Promise<SetupNote[]> {
  const notes: SetupNote[] = [];
  // A cluster electing leaders, still forming, or moving replicas after a change above, answers late
  // or refuses for a while: waited for, said once (again when the reason changes, and at growing intervals).
  await waitUntilUp(() => ensureOnce(bus, s, notes), {
    ...waiting,
    what: "JetStream",
    hint: jetStreamHint,
    fatal: (err) => pendingReason(err) === undefined,
    reasonOf: (err) => pendingReason(err) ?? String(err),
    reasonField: "waiting_for",
    firstRetryMs: 500,
  });
  return notes;
}

function ensureOnce(bus: Bus, s: StreamSettings, notes: SetupNote[]): Promise<void> {
  return unlessDenied(
    bus,
    (subject) => subject.startsWith("$JS.API."),
    async () => {
      const jsm = await jetstreamManager(bus.nc);
      const names = streamNames(bus.prefix);
      for (const stream of streamsOf(bus.prefix, s)) await ensureStream(jsm, s, notes, stream);
      const maxAckPending = { value: s.maxAckPending, setting: "BERTH_MAX_ACK_PENDING" } as const;
      await ensureConsumer(
        jsm,
        names.events,
        names.consumer,
        {},
        { ack_wait: { value: seconds(s.ackWaitSeconds), setting: "BERTH_ACK_WAIT_SECONDS" }, max_ack_pending: maxAckPending },
        s,
        notes,
      );
      await ensureConsumer(
        jsm,
        names.repairs,
        names.repairConsumer,
        { ack_wait: seconds(REPAIR_ACK_WAIT_SECONDS) },
        { max_ack_pending: maxAckPending },
        s,
        notes,
      );
      await ensureStateBucket(bus, jsm, s, notes);
      await noteSingleServer(jsm, names.events, s, notes);
    },
  );
}
