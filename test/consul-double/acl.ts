// Token extraction (query, X-Consul-Token, Authorization: Bearer) and a small ACL
// authorizer: per-token service write/read grants, falling back to the default policy.
import type { IncomingHttpHeaders } from "node:http";
import type { AclToken, ConsulDoubleOptions } from "./types.ts";
import { HttpError } from "./http.ts";

export const ANONYMOUS_ACCESSOR = "00000000-0000-0000-0000-000000000002";

/** Token precedence: non-empty ?token=, then X-Consul-Token, then Authorization: Bearer. */
export function tokenFrom(query: URLSearchParams, headers: IncomingHttpHeaders): string {
  const q = query.get("token");
  if (q) return q;
  const h = headers["x-consul-token"];
  if (typeof h === "string" && h !== "") return h;
  const auth = headers.authorization;
  if (typeof auth === "string" && auth !== "") {
    const parts = auth.split(" ");
    if (parts.length > 1 && (parts[0] ?? "").toLowerCase() === "bearer") {
      return (parts.slice(1).join(" ").trim().split(" ")[0] ?? "").trim();
    }
  }
  return "";
}

export type Authorizer = {
  /** ACLs enabled and a token was resolved (anonymous included). */
  enabled: boolean;
  serviceRead(name: string): boolean;
  serviceWrite(name: string): boolean;
  nodeWrite(): boolean;
  agentRead(): boolean;
  /** The 403 error for a missing permission. */
  denied(resource: string, level: "read" | "write", name: string): HttpError;
};

const grants = (list: string[] | undefined, name: string) =>
  (list ?? []).some((g) => g === "*" || g === name || (g.endsWith("*") && name.startsWith(g.slice(0, -1))));

/** ResolveTokenAndDefaultMeta: throws 403 "ACL not found" for an unknown secret. */
export function resolveToken(acl: ConsulDoubleOptions["acl"], secret: string): Authorizer {
  if (!acl) {
    const yes = () => true;
    return {
      enabled: false,
      serviceRead: yes,
      serviceWrite: yes,
      nodeWrite: yes,
      agentRead: yes,
      denied: () => new HttpError(403, "Permission denied"),
    };
  }
  const key = secret === "" ? "anonymous" : secret;
  const token: AclToken | undefined =
    acl.tokens[key] ?? (key === "anonymous" ? { accessorId: ANONYMOUS_ACCESSOR, serviceWrite: [] } : undefined);
  if (!token) throw new HttpError(403, "ACL not found");
  const allowByDefault = acl.defaultPolicy === "allow";
  const write = (name: string) => grants(token.serviceWrite, name) || allowByDefault;
  return {
    enabled: true,
    serviceWrite: write,
    serviceRead: (name) => write(name) || grants(token.serviceRead, name),
    nodeWrite: () => token.nodeWrite === true || allowByDefault,
    agentRead: () => token.agentRead === true || allowByDefault,
    denied: (resource, level, name) =>
      new HttpError(
        403,
        `Permission denied: token with AccessorID '${token.accessorId}' lacks permission '${resource}:${level}' on ${JSON.stringify(name)}`,
      ),
  };
}
