import { agentEntryFor, agentToken, type AgentDirectory } from "./agents.ts";
import { agentClient, type AgentClient, type ConsulTls } from "./client.ts";

export type AgentPool = {
  /** The client of a node's agent from configuration, or undefined when this handler has none for it. */
  agentFor: (node: string) => AgentClient | undefined;
  closeAll(): Promise<void>;
};

/** One client per agent URL, created on first use, with the agent's token and the TLS settings. */
export function agentPool(directory: AgentDirectory, defaultToken: string | undefined, tls: ConsulTls | undefined): AgentPool {
  const clients = new Map<string, AgentClient>();
  return {
    agentFor(node) {
      const entry = agentEntryFor(directory, node);
      if (entry === undefined) return undefined;
      // Two nodes may share an agent URL with different tokens: one client per URL and token source.
      const key = `${entry.url} ${JSON.stringify(entry.token ?? null)}`;
      let client = clients.get(key);
      if (!client) clients.set(key, (client = agentClient(entry.url, { token: agentToken(entry, defaultToken), tls })));
      return client;
    },
    async closeAll() {
      await Promise.all([...clients.values()].map((c) => c.close()));
    },
  };
}
