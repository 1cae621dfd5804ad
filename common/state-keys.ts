// The keys of the state bucket, built and read here only:
//   <node>.<container-id>   the container's latest event
//   <node>                  the node's last snapshot, beside its containers' keys
//   _<anything>             the handlers' bookkeeping (e.g. `_snapshot-time.<node>`): no node name
//                           starts with `_`, so it is never among a node's keys
import { isContainerId, isValidNodeName } from "../schemas/index.ts";

const BOOKKEEPING = "_";

export const stateKey = (node: string, containerId: string): string => `${node}.${containerId}`;
/** The bucket filter that matches every container key of `node` (not its snapshot, not bookkeeping). */
export const containerKeysOf = (node: string): string => `${node}.*`;
export const snapshotKey = (node: string): string => node;
/**
 * That snapshot's time (decimal nanoseconds), written after it: most starts need only this, a few
 * bytes where the snapshot lists every container of the node (67 KB for 1,000).
 */
export const snapshotTimeKey = (node: string): string => `${BOOKKEEPING}snapshot-time.${node}`;

export type StateKey =
  | { kind: "container"; node: string; containerId: string }
  | { kind: "snapshot"; node: string }
  /** Any key starting with `_`, whatever follows: the handlers' own records, about no container. */
  | { kind: "bookkeeping"; key: string };

/** Reads a key of the bucket back; undefined when it is none of the above (not berth's). */
export function parseStateKey(key: string): StateKey | undefined {
  if (key.startsWith(BOOKKEEPING)) return { kind: "bookkeeping", key };
  const tokens = key.split(".");
  const [node, containerId] = tokens;
  if (node === undefined || !isValidNodeName(node)) return undefined;
  if (tokens.length === 1) return { kind: "snapshot", node };
  if (tokens.length === 2 && containerId !== undefined && isContainerId(containerId)) return { kind: "container", node, containerId };
  return undefined;
}
