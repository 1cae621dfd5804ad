import { readFileSync } from "node:fs";
import { redactUrl, registerSecret } from "../common/redact.ts";
import { isValidNodeName } from "../schemas/index.ts";

/** An agent's address and, when its entry names one, its own ACL token (else CONSUL_HTTP_TOKEN). */
export type AgentEntry = { url: string; token?: TokenSource };
/** `token=<secret>` or `token=@<file>`; the file is read when the handler starts. */
export type TokenSource = { value: string } | { file: string };

/** How a handler finds the agent of node X: only from its own configuration, never from an event. */
export type AgentDirectory = { kind: "map"; agents: ReadonlyMap<string, AgentEntry> } | { kind: "template"; template: string };

export const DEFAULT_AGENT_TEMPLATE = "http://{node}:8500";

/** A problem of an agent URL; `written`: the text to quote, what the user wrote (a template, not the URL it makes). */
function checkAgentUrl(text: string, what: string, written: string = text): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `${what} is not a URL: "${redactUrl(written)}"`;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return `${what} must be http:// or https://, not "${redactUrl(written)}"`;
  if (url.username || url.password) return `${what} must not carry credentials; use CONSUL_HTTP_TOKEN`;
  if (url.search || url.hash) return `${what} must not have a query or fragment`;
  return undefined;
}

/** `token=<secret>` or `token=@<file>` after the URL's `;`; a problem never repeats the secret. */
function parseTokenOption(option: string, node: string): TokenSource | string {
  if (!option.startsWith("token=") || option.length === "token=".length)
    return `BERTH_CONSUL_AGENTS: agent of ${node}: after ";" only token=<secret> or token=@<file> may follow`;
  const value = option.slice("token=".length);
  if (value.startsWith("@")) return { file: value.slice(1) };
  registerSecret(value); // known from the moment it is read: censored in every error and line after
  return { value };
}

/**
 * `node1=http://10.0.0.1:8500;token=@/run/secrets/node1,node2=…` → map; every problem is
 * reported. An agent URL never holds `;`, so everything after it is the entry's options.
 */
export function parseAgentMap(text: string): { agents: Map<string, AgentEntry>; problems: string[] } {
  const agents = new Map<string, AgentEntry>();
  const problems: string[] = [];
  let afterToken = false;
  for (const [i, entry] of text
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "")
    .entries()) {
    const [address = "", ...options] = entry.split(";").map((o) => o.trim());
    const found = problems.length;
    const eq = address.indexOf("=");
    const node = eq < 0 ? "" : address.slice(0, eq).trim();
    const url = address.slice(eq + 1).trim();
    if (!isValidNodeName(node))
      problems.push(`BERTH_CONSUL_AGENTS: "${redactUrl(address)}" must be <node>=<url>[;token=…] with a valid node name`);
    else if (agents.has(node)) problems.push(`BERTH_CONSUL_AGENTS: node ${node} is listed twice`);
    else if (options.length > 1) problems.push(`BERTH_CONSUL_AGENTS: agent of ${node}: one token at most`);
    else {
      const token = options[0] === undefined ? undefined : parseTokenOption(options[0], node);
      const problem = checkAgentUrl(url, `BERTH_CONSUL_AGENTS: agent of ${node}`) ?? (typeof token === "string" ? token : undefined);
      if (problem) problems.push(problem);
      else agents.set(node, { url: url.replace(/\/$/, ""), ...(token !== undefined && typeof token !== "string" ? { token } : {}) });
    }
    // A token holding "," is cut there, and its rest would be quoted as a bad entry: after a token,
    // quote only what is plainly an entry of its own (`<node>=http…`), never what may be a token's rest.
    const plainEntry = isValidNodeName(node) && /^https?:\/\//i.test(url);
    if (afterToken && !plainEntry && problems.length > found) {
      problems.splice(
        found,
        Infinity,
        `BERTH_CONSUL_AGENTS: entry ${i + 1}, after a token, is not <node>=<url>[;token=…] (a token holding "," must be given as token=@<file>)`,
      );
    }
    afterToken = options.length > 0;
  }
  if (agents.size === 0 && problems.length === 0) problems.push("BERTH_CONSUL_AGENTS lists no agent");
  return { agents, problems };
}

/**
 * The template may put `{node}` only in the host: node names are validated (letters, digits,
 * `-`, `_`), so no node name can change the scheme, port or path the operator wrote.
 */
export function checkAgentTemplate(template: string): string[] {
  const sample = template.replaceAll("{node}", "node-1");
  const problem = checkAgentUrl(sample, "BERTH_CONSUL_AGENT_TEMPLATE", template);
  if (problem) return [template.includes("{node}") ? `${problem} (with {node} = node-1: "${redactUrl(sample)}")` : problem];
  const url = new URL(sample);
  const withoutHost = `${url.protocol}//${url.port}${url.pathname}`;
  if (withoutHost.includes("node-1"))
    return [`BERTH_CONSUL_AGENT_TEMPLATE may use {node} only in the host name, not "${redactUrl(template)}"`];
  return [];
}

/**
 * The agent of a node, or undefined when this handler has no agent for it (map mode), the name is
 * invalid, or the template gives no URL for it (`08`, `99999999999`: all-digit hosts are IPv4
 * numbers to a URL parser, and these are no valid address) — dead-lettered, not retried forever.
 */
export function agentEntryFor(directory: AgentDirectory, node: string): AgentEntry | undefined {
  if (!isValidNodeName(node)) return undefined;
  if (directory.kind === "map") return directory.agents.get(node);
  const url = directory.template.replaceAll("{node}", node).replace(/\/$/, "");
  return URL.canParse(url) ? { url } : undefined;
}

/**
 * The token an agent's requests carry: its own (a file is read now, so a rotated file is read
 * again by the next handler started), else `fallback` (CONSUL_HTTP_TOKEN). Never printed.
 */
export function agentToken(entry: AgentEntry, fallback: string | undefined): string | undefined {
  const source = entry.token;
  const token = source === undefined ? fallback : "file" in source ? readFileSync(source.file, "utf8").trim() : source.value;
  registerSecret(token);
  return token;
}
