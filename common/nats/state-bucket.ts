// The state bucket: each container's latest desired state, read and written compare-and-set (P3).
import { streamNames } from "../../schemas/index.ts";
import type { Bus } from "./connect.ts";
import { API_ERROR, isApiError } from "./errors.ts";
import { DeliverPolicy, Kvm, jetstreamManager, type KV, type KvStatus } from "./sdk.ts";

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
  /** How long an entry lives unless rewritten (the bucket's own setting, whoever created it). */
  ttlSeconds: number;
};

/**
 * Direct gets answer from the stream without the JetStream API's JSON and base64: a quarter of a
 * busy handler's CPU and a third of nats-server's per event (npm run bench). Any replica may answer
 * one, possibly a write behind, and the re-read after applying (P3) needs the latest revision: so
 * direct gets only on a bucket of one replica. With replicas (BERTH_REPLICAS > 1) every get goes
 * through the JetStream API, which the stream's leader answers: the latest revision, at the API's cost.
 */
function directGetsAreCurrent(status: KvStatus): boolean {
  return status.streamInfo.config.allow_direct && status.replicas === 1;
}

/**
 * The latest entry of every key matching `filter`, read in one pass: the keys are listed first
 * (the stream's subjects), then an ordered consumer delivers the last message of each until every
 * listed key was seen. KV's own history() ends only on a message that leaves nothing pending, or
 * on an idle heartbeat: while a node's keys are being written it could wait for seconds.
 */
async function latestMatching(bus: Bus, stream: string, subjectPrefix: string, filter: string): Promise<Map<string, StateEntry>> {
  const out = new Map<string, StateEntry>();
  const subject = `${subjectPrefix}${filter}`;
  const jsm = await jetstreamManager(bus.nc);
  const waiting = new Set(Object.keys((await jsm.streams.info(stream, { subjects_filter: subject })).state.subjects ?? {}));
  if (waiting.size === 0) return out;
  const consumer = await bus.js.consumers.get(stream, { filter_subjects: subject, deliver_policy: DeliverPolicy.LastPerSubject });
  const messages = await consumer.consume({ max_messages: Math.min(waiting.size, 1_000) });
  try {
    for await (const m of messages) {
      const key = m.subject.slice(subjectPrefix.length);
      const operation = m.headers?.get("KV-Operation") ?? "";
      if (operation === "") out.set(key, { value: m.data, revision: m.seq, created: m.time });
      else out.delete(key);
      waiting.delete(m.subject);
      if (waiting.size === 0 || m.info.pending === 0) break;
    }
  } finally {
    await messages.close();
  }
  return out;
}

export async function openStateBucket(bus: Bus): Promise<StateBucket> {
  const kvm = new Kvm(bus.js);
  const name = streamNames(bus.prefix).state;
  const status = await (await kvm.open(name)).status();
  const kv: KV = await kvm.open(name, { allow_direct: directGetsAreCurrent(status) });
  return {
    ttlSeconds: status.ttl / 1000,
    async get(key) {
      const entry = await kv.get(key);
      return entry && entry.operation === "PUT" ? { value: entry.value, revision: entry.revision, created: entry.created } : undefined;
    },
    async deleteAt(key, revision) {
      try {
        await kv.delete(key, { previousSeq: revision });
        return true;
      } catch (err) {
        if (isApiError(err, [API_ERROR.wrongLastSequence])) return false;
        throw err;
      }
    },
    entriesMatching: (filter) => latestMatching(bus, `KV_${name}`, `$KV.${name}.`, filter),
    async compareAndSet(key, value, revision) {
      try {
        return revision === 0 ? await kv.create(key, value) : await kv.update(key, value, revision);
      } catch (err) {
        if (isApiError(err, [API_ERROR.wrongLastSequence])) return undefined;
        throw err;
      }
    },
  };
}
