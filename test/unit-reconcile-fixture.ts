// The handler of the reconcile tests: in-memory bucket and agent, node3's events and snapshots.
import assert from "node:assert/strict";
import { handleMessage } from "../handler/consume.ts";
import type { MappingSettings } from "../mapping/settings.ts";
import { subjectFor, toNodeSnapshot, type BerthEvent } from "../schemas/index.ts";
import { bytesOf, event, handlerDeps, memoryAgent, memoryBucket, message } from "./builders.ts";

export const ID = (c: string) => c.repeat(64);

/** `mapping`: the handler's mapping settings (default: berth's defaults). */
export function setup(mapping?: MappingSettings) {
  const agent = memoryAgent();
  const bucket = memoryBucket();
  const { deps } = handlerDeps(agent, {
    bucket,
    deadLetter: () => Promise.reject(new assert.AssertionError({ message: "nothing here is dead-lettered" })),
    ...(mapping ? { mapping } : {}),
  });
  const send = async (e: BerthEvent) => {
    const { msg, settled } = message(subjectFor("berth", e), bytesOf(e));
    await handleMessage(deps, msg);
    assert.deepEqual(settled, { acked: 1, naks: [] });
  };
  const snapshot = (at: bigint, ids: string[]) => send(toNodeSnapshot({ name: "node3", hostIp: "10.0.0.3" }, at, ids));
  const writes = () => agent.calls.filter((c) => !c.startsWith("services"));
  return { agent, bucket, send, snapshot, writes };
}

export const started = (c: string, t: bigint) => event({ timeNano: t, container: { id: ID(c), name: `svc-${c}` } });
