// The state bucket: each container's latest desired state, read and written compare-and-set (P3).
import { streamNames } from "../../schemas/index.ts";
import type { Bus } from "./connect.ts";
import { API_ERROR, isApiError, leaderOrNamed } from "./errors.ts";
import { Kvm, jetstreamManager, type KV, type KvStatus } from "./sdk.ts";

/** The latest desired state of each container, `<node>.<container-id>` → event JSON (history 1). */
export type StateEntry = { value: Uint8Array; revision: number; created: Date };

export type StateBucket = {
  get(key: string): Promise<StateEntry | undefined>;
  /** Writes only if the key is still at `revision` (0: absent): the new revision, or undefined when someone else wrote first. */
  compareAndSet(key: string, value: Uint8Array, revision: number): Promise<number | undefined>;
  /**
   * Writes only if the key never held anything: no value, and no deletion's marker (which stays
   * for the bucket's TTL). The new revision, or undefined when the key holds or held something.
   */
  createFresh(key: string, value: Uint8Array): Promise<number | undefined>;
  /** Deletes only if the key is still at `revision`, leaving a deletion's marker; false when someone else wrote first. */
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

/** Keys entriesMatching and entriesOf read at once. */
const ENTRIES_AT_ONCE = 64;

/** The entry of each of `keys` that has one, read many at once. */
export async function entriesOf(bucket: Pick<StateBucket, "get">, keys: readonly string[]): Promise<Map<string, StateEntry>> {
  const out = new Map<string, StateEntry>();
  let next = 0;
  const lane = async () => {
    for (let key = keys[next++]; key !== undefined; key = keys[next++]) {
      const entry = await bucket.get(key);
      if (entry) out.set(key, entry);
    }
  };
  await Promise.all(Array.from({ length: Math.min(ENTRIES_AT_ONCE, keys.length) }, lane));
  return out;
}

export async function openStateBucket(bus: Bus): Promise<StateBucket> {
  const kvm = new Kvm(bus.js);
  const name = streamNames(bus.prefix).state;
  const what = `the state bucket ${name}`;
  const status = await (await kvm.open(name)).status();
  const kv: KV = await kvm.open(name, { allow_direct: directGetsAreCurrent(status) });
  const bucket: StateBucket = {
    ttlSeconds: status.ttl / 1000,
    async get(key) {
      const entry = await kv.get(key);
      return entry && entry.operation === "PUT" ? { value: entry.value, revision: entry.revision, created: entry.created } : undefined;
    },
    async deleteAt(key, revision) {
      try {
        await leaderOrNamed(what, () => kv.delete(key, { previousSeq: revision }));
        return true;
      } catch (err) {
        if (isApiError(err, [API_ERROR.wrongLastSequence])) return false;
        throw err;
      }
    },
    async entriesMatching(filter) {
      // The keys from the stream's subject index (one request), then each key's entry, many at
      // once: no consumer to create and delete per call, which on a replicated bucket goes through
      // the cluster's meta leader. A key deleted meanwhile is simply left out. The index request
      // walks every subject of the bucket (nats-server 2.9: ~17 ms at 58,000 keys, holding the
      // stream): snapshots use it only now and then (handler/snapshot.ts).
      const prefix = `$KV.${name}.`;
      const info = await (await jetstreamManager(bus.nc)).streams.info(`KV_${name}`, { subjects_filter: `${prefix}${filter}` });
      return entriesOf(
        bucket,
        Object.keys(info.state.subjects ?? {}).map((subject) => subject.slice(prefix.length)),
      );
    },
    async createFresh(key, value) {
      try {
        // kv.create would write over a deletion's marker: a put expecting no message at all does not.
        return await leaderOrNamed(what, () => kv.put(key, value, { previousSeq: 0 }));
      } catch (err) {
        if (isApiError(err, [API_ERROR.wrongLastSequence])) return undefined;
        throw err;
      }
    },
    async compareAndSet(key, value, revision) {
      try {
        return await leaderOrNamed(what, () => (revision === 0 ? kv.create(key, value) : kv.update(key, value, revision)));
      } catch (err) {
        if (isApiError(err, [API_ERROR.wrongLastSequence])) return undefined;
        throw err;
      }
    },
  };
  return bucket;
}
