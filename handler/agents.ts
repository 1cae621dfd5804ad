import { isValidNodeName } from "../schemas/index.ts";

/** How a handler finds the agent of node X: only from its own configuration, never from an event. */
export type AgentDirectory = { kind: "map"; agents: ReadonlyMap<string, string> } | { kind: "template"; template: string };

export const DEFAULT_AGENT_TEMPLATE = "http://{node}:8500";

function checkAgentUrl(text: string, what: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `${what} is not a URL: "${text}"`;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return `${what} must be http:// or https://, not "${text}"`;
  if (url.username || url.password) return `${what} must not carry credentials; use CONSUL_HTTP_TOKEN`;
  if (url.search || url.hash) return `${what} must not have a query or fragment: "${text}"`;
  return undefined;
}

/** `node1=http://10.0.0.1:8500,node2=http://10.0.0.2:8500` → map; every problem is reported. */
export function parseAgentMap(text: string): { agents: Map<string, string>; problems: string[] } {
  const agents = new Map<string, string>();
  const problems: string[] = [];
  for (const entry of text.split(",").map((e) => e.trim()).filter((e) => e !== "")) {
    const eq = entry.indexOf("=");
    const node = eq < 0 ? "" : entry.slice(0, eq).trim();
    const url = entry.slice(eq + 1).trim();
    if (!isValidNodeName(node)) problems.push(`BERTH_CONSUL_AGENTS: "${entry}" must be <node>=<url> with a valid node name`);
    else if (agents.has(node)) problems.push(`BERTH_CONSUL_AGENTS: node ${node} is listed twice`);
    else {
      const problem = checkAgentUrl(url, `BERTH_CONSUL_AGENTS: agent of ${node}`);
      if (problem) problems.push(problem);
      else agents.set(node, url.replace(/\/$/, ""));
    }
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
  const problem = checkAgentUrl(sample, "BERTH_CONSUL_AGENT_TEMPLATE");
  if (problem) return [problem];
  const url = new URL(sample);
  const withoutHost = `${url.protocol}//${url.port}${url.pathname}`;
  if (withoutHost.includes("node-1")) return ["BERTH_CONSUL_AGENT_TEMPLATE may use {node} only in the host name"];
  return [];
}

/** The agent URL for a node, or undefined when this handler has no agent for it (map mode). */
export function agentUrlFor(directory: AgentDirectory, node: string): string | undefined {
  if (!isValidNodeName(node)) return undefined;
  if (directory.kind === "map") return directory.agents.get(node);
  return directory.template.replaceAll("{node}", node).replace(/\/$/, "");
}
