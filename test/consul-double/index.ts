// A Consul agent (CE 1.17) test double: one agent that also answers catalog and health
// queries for its own node. See /work/shared/consul-agent-api.md for the behaviour followed.
export { startConsulDouble } from "./server.ts";
export type { AgentCheck, AgentService, AclToken, ConsulDouble, ConsulDoubleOptions, RequestRecord } from "./types.ts";
