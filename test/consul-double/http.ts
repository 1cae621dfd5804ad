// HTTP conventions shared by every endpoint: typed errors, Go-style JSON encoding, query
// parsing rules (booleans, wait/index, consistency) and the CE enterprise-input checks.
import type { IncomingHttpHeaders } from "node:http";
import { DurationError, parseGoDuration } from "./duration.ts";

/** An error with its HTTP status; the body is the message (text/plain, no newline). */
export class HttpError extends Error {
  override name = "HttpError";
  readonly status: number;
  readonly headers: Record<string, string>;
  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.headers = headers;
  }
}

/** What a handler returns: undefined means 200 with an empty body. */
export type Reply = { status?: number; json?: unknown; text?: string; headers?: Record<string, string> } | undefined;

/** Go's encoding/json output: compact, HTML-escaped; `pretty` = MarshalIndent(4 spaces) + "\n". */
export function goJson(value: unknown, pretty: boolean): string {
  const raw = pretty ? JSON.stringify(value, null, 4) + "\n" : JSON.stringify(value);
  return raw.replace(/[<>&\u2028\u2029]/g, (c) => "\\u" + (c.codePointAt(0) ?? 0).toString(16).padStart(4, "0"));
}

/** strconv.ParseBool; undefined when the value is not a Go boolean. */
export function parseGoBool(raw: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(raw)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(raw)) return false;
  return undefined;
}

/** strconv.Quote, close enough for IDs in error messages. */
export function goQuote(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\u009f]/g, (c) => "\\x" + (c.codePointAt(0) ?? 0).toString(16));
}

/** url.ParseQuery fails on ';' and bad escapes; Consul's wrap then answers 500, empty. */
export function queryIsValid(raw: string): boolean {
  if (raw.includes(";")) return false;
  return raw.split("&").every((part) => !/%(?![0-9a-fA-F]{2})/.test(part));
}

/** parseEntMeta on CE: namespace header, ns, partition header, partition → 400. */
export function rejectEnterpriseInputs(query: URLSearchParams, headers: IncomingHttpHeaders): void {
  const ns = "Namespaces are a Consul Enterprise feature";
  const ap = "Partitions are a Consul Enterprise feature";
  if (headers["x-consul-namespace"]) throw new HttpError(400, `Invalid header: "X-Consul-Namespace" - ${ns}`);
  if (query.get("ns")) throw new HttpError(400, `Invalid query parameter: "ns" - ${ns}`);
  if (headers["x-consul-partition"]) throw new HttpError(400, `Invalid header: "X-Consul-Partition" - ${ap}`);
  if (query.get("partition")) throw new HttpError(400, `Invalid query parameter: "partition" - ${ap}`);
}

const DEFAULT_QUERY_MS = 300_000;
const MAX_QUERY_MS = 600_000;

/** parseWait: ?wait (Go duration) and ?index (uint64); 400 on bad values. */
export function parseWait(query: URLSearchParams): { waitNs: number; minIndex: number } {
  let waitNs = 0;
  let minIndex = 0;
  const wait = query.get("wait");
  if (wait) {
    try {
      waitNs = parseGoDuration(wait);
    } catch (err) {
      if (err instanceof DurationError) throw new HttpError(400, "Invalid wait time");
      throw err;
    }
  }
  const idx = query.get("index");
  if (idx) {
    if (!/^\d+$/.test(idx) || BigInt(idx) > 2n ** 64n - 1n) throw new HttpError(400, "Invalid index");
    minIndex = Number(idx);
  }
  return { waitNs, minIndex };
}

/** Blocking timeout: default 5m, capped at 10m, plus jitter of up to wait/16. */
export function blockingWaitMs(waitNs: number, jitter = true): number {
  let ms = waitNs > 0 ? waitNs / 1e6 : DEFAULT_QUERY_MS;
  if (ms > MAX_QUERY_MS) ms = MAX_QUERY_MS;
  return jitter ? ms + Math.random() * (ms / 16) : ms;
}

/** parseConsistency: the conflicting-flag 400s; returns X-Consul-Effective-Consistency. */
export function parseConsistency(query: URLSearchParams): string {
  const stale = query.has("stale");
  const consistent = query.has("consistent");
  let allowStale = stale;
  const maxStale = query.get("max_stale");
  if (maxStale) {
    let ns: number;
    try {
      ns = parseGoDuration(maxStale);
    } catch {
      throw new HttpError(400, `Invalid max_stale value ${goQuote(maxStale)}`);
    }
    if (ns > 0) allowStale = true;
  }
  if (allowStale && consistent) throw new HttpError(400, "Cannot specify ?stale with ?consistent, conflicting semantics.");
  if (query.has("cached") && consistent) throw new HttpError(400, "Cannot specify ?cached with ?consistent, conflicting semantics.");
  return consistent ? "consistent" : allowStale ? "stale" : "leader";
}
