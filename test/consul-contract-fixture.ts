// Shared set-up of the Consul agent contract tests (test/consul-contract-*.test.ts): the target
// they talk to — the in-process double by default, a real agent when CONSUL_HTTP_ADDR is set
// (CONSUL_HTTP_TOKEN is sent when set), opened by useTarget() before a file's tests and closed
// after them — with the node's identity, unique service names removed after each test, and the
// wire shapes the tests compare against. The source of truth is /work/shared/consul-agent-api.md.
import assert from "node:assert/strict";
import { after, before, type TestContext } from "node:test";
import { enc, openTarget, type Target } from "./consul-double/contract-kit.ts";
import type { AgentCheck, AgentService, ConsulDouble } from "./consul-double/index.ts";

export const REAL = !!process.env.CONSUL_HTTP_ADDR;
export const doubleOnly = REAL ? "needs the double's own configuration (CONSUL_HTTP_ADDR is set)" : false;
export const TEXT = "text/plain; charset=utf-8";
export const AGENT_SERVICE_KEYS = ["ID", "Service", "Tags", "Meta", "Port", "Address", "Weights", "EnableTagOverride", "Datacenter"];
export const CHECK_KEYS = [
  "Node",
  "CheckID",
  "Name",
  "Status",
  "Notes",
  "Output",
  "ServiceID",
  "ServiceName",
  "ServiceTags",
  "Type",
  "Interval",
  "Timeout",
  "ExposedPort",
  "Definition",
  "CreateIndex",
  "ModifyIndex",
];

// Set by useTarget()'s before(): importers see the values once it has run.
export let t0: Target;
export let dc = "dc1";
export let nodeName = "node1";
/** Doubles a test starts of its own, closed after the file's tests. */
export const extraDoubles: ConsulDouble[] = [];

/** Opens the target (and reads its node's identity) before the file's tests; closes it and extraDoubles after. */
export function useTarget(): void {
  before(async () => {
    t0 = await openTarget();
    const self = (await t0.get("/v1/agent/self")).json() as { Config: { Datacenter: string; NodeName: string } };
    dc = self.Config.Datacenter;
    nodeName = self.Config.NodeName;
  });
  after(closeAll);
}

/** Closes the target, if opened, and every double in extraDoubles. */
export async function closeAll(): Promise<void> {
  // t0 is unset when before() failed in openTarget(); after() runs all the same.
  await Promise.all([(t0 as Target | undefined)?.close(), ...extraDoubles.map((d) => d.close())]);
}

let seq = 0;
/** A unique service name for this run; registered services are deregistered after the test. */
export function name(t: TestContext, label: string): string {
  const id = `berth-ct-${t0.run}-${label}-${++seq}`;
  t.after(async () => {
    await t0.put(`/v1/agent/service/deregister/${enc(id)}`);
  });
  return id;
}
export async function register(body: Record<string, unknown>, query = ""): Promise<void> {
  const res = await t0.put(`/v1/agent/service/register${query}`, body);
  assert.equal(res.status, 200, res.text);
}
export const services = async () => (await t0.get("/v1/agent/services")).json() as Record<string, AgentService>;
export const checks = async () => (await t0.get("/v1/agent/checks")).json() as Record<string, AgentCheck>;
export const check = async (id: string) => (await checks())[id];
export type HealthEntry = { Node: Record<string, unknown>; Service: Record<string, unknown>; Checks: AgentCheck[] };
