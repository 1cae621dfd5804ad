// What a route handler receives, and small helpers shared by the route files.
import type { IncomingHttpHeaders } from "node:http";
import { resolveToken, type Authorizer } from "./acl.ts";
import { DecodeError, decodeBody, type Schema } from "./decode.ts";
import { HttpError, type Reply } from "./http.ts";
import type { Store } from "./state.ts";
import type { CheckRunner } from "./ttl.ts";
import type { ConsulDoubleOptions, Identity } from "./types.ts";

export type Ctx = {
  method: string;
  /** The percent-decoded path remainder after a prefix pattern ("" for exact routes). */
  id: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  token: string;
  identity: Identity;
  store: Store;
  runner: CheckRunner;
  acl: ConsulDoubleOptions["acl"];
  /** The agent's `enable_script_checks`. */
  enableScriptChecks: boolean;
  /** Resolves the request token; throws 403 "ACL not found" when ACLs are on and it is unknown. */
  authz(): Authorizer;
  /** Aborted when the client goes away or the double closes (ends blocking waits early). */
  closed: Promise<void>;
};

export type Handler = (ctx: Ctx) => Reply | Promise<Reply>;
export type Route = { pattern: string; methods: string[]; handler: Handler };

export function makeAuthz(acl: ConsulDoubleOptions["acl"], token: string): () => Authorizer {
  return () => resolveToken(acl, token);
}

/** decodeBody with Consul's 400 "Request decode failed: …". */
export function decodeOr400(body: Buffer, schema: Schema): Record<string, unknown> {
  try {
    return decodeBody(body, schema);
  } catch (err) {
    if (err instanceof DecodeError) throw new HttpError(400, `Request decode failed: ${err.message}`);
    throw err;
  }
}

/** Go's encoding/json emits map keys sorted. */
export function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Sets X-Consul-Results-Filtered-By-ACLs only when something was dropped and a token was sent. */
export function filteredHeader(ctx: Ctx, dropped: boolean): Record<string, string> {
  return ctx.token !== "" && dropped ? { "X-Consul-Results-Filtered-By-ACLs": "true" } : {};
}
