// Builders for unit tests: small valid values that each test changes only where it cares.
import type { InboundMessage, StateBucket, StateEntry } from "../common/nats/index.ts";
import { toContainerEvent, type Container, type ContainerEvent, type ContainerEventType } from "../schemas/index.ts";
import type { AgentClient, ServiceRegistration } from "../consul/client.ts";
import { createLogger } from "../common/log.ts";
import type { HandlerDeps } from "../handler/deps.ts";
import type { DeadLetterReason } from "../handler/dead-letter.ts";
import { nodeGate } from "../handler/node-gate.ts";
import { DEFAULT_MAPPING_SETTINGS, type MappingSettings } from "../mapping/settings.ts";
import assert from "node:assert/strict";
import { ConfigError } from "../common/config.ts";

export const ID_A = "a".repeat(64);
export const ID_B = "b".repeat(64);

export function container(overrides: Partial<Container> = {}): Container {
  return {
    id: ID_A,
    name: "svc4",
    image: "registry.local:5000/team/web:1.2",
    ports: [{ containerPort: 8080, protocol: "tcp", hostIp: "0.0.0.0", hostPort: 8084 }],
    env: { SERVICE_NAME: "svc4" },
    labels: {},
    ...overrides,
  };
}

export function event(
  overrides: { type?: ContainerEventType; node?: string; hostIp?: string; timeNano?: bigint; container?: Partial<Container> } = {},
): ContainerEvent {
  const node = {
    name: overrides.node ?? "node3",
    ...(overrides.hostIp === undefined ? { hostIp: "10.0.0.3" } : overrides.hostIp === "" ? {} : { hostIp: overrides.hostIp }),
  };
  return toContainerEvent(
    overrides.type ?? "io.berth.container.started",
    node,
    overrides.timeNano ?? 1_700_000_000_000_000_000n,
    container(overrides.container),
  );
}

/** Mapping settings: registrator's defaults, changed where a test cares. */
export function settings(overrides: Partial<MappingSettings> = {}): MappingSettings {
  return { ...DEFAULT_MAPPING_SETTINGS, ...overrides };
}

type Port = NonNullable<Container["ports"]>[number];
const PUBLISH = /^(?:(\[[0-9a-f:.]+\]|[0-9.]+):)?(\d+):(\d+)(?:\/(tcp|udp|sctp))?$/i;

/** Port bindings written as `docker run -p` does: `8084:8080`, `127.0.0.1:9053:53/udp`, `[::1]:80:80`. */
export function publish(...specs: string[]): Port[] {
  return specs.map((spec) => {
    const m = PUBLISH.exec(spec);
    if (!m) throw new Error(`bad -p spec ${spec}`);
    const hostIp = m[1]?.replace(/^\[|\]$/g, "");
    return {
      containerPort: Number(m[3]),
      protocol: (m[4] ?? "tcp") as Port["protocol"],
      hostPort: Number(m[2]),
      ...(hostIp ? { hostIp } : {}),
    };
  });
}

/** Exposed ports written as `EXPOSE` does: `80`, `53/udp`. */
export function expose(...specs: string[]): NonNullable<Container["exposedPorts"]> {
  return specs.map((spec) => {
    const [port, protocol = "tcp"] = spec.split("/");
    return { containerPort: Number(port), protocol: protocol as Port["protocol"] };
  });
}

export const bytesOf = (value: unknown) => new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value));

/** A message whose settlement is recorded instead of sent. */
export function message(subject: string, data: Uint8Array, deliveryCount = 1) {
  const settled: { acked: number; naks: number[] } = { acked: 0, naks: [] };
  const msg: InboundMessage = {
    subject,
    data,
    deliveryCount,
    ack: () => {
      settled.acked++;
    },
    nak: (delay) => void settled.naks.push(delay),
  };
  return { msg, settled };
}

/**
 * What a handler needs for per-node isolation (P7), for a test: its own gate, and a repair-request
 * publisher that records what it was asked (`repairs`).
 */
export function isolation() {
  const repairs: { node: string; reason: string }[] = [];
  const requestRepair = (node: string, reason: string) => {
    repairs.push({ node, reason });
    return Promise.resolve();
  };
  return { gate: nodeGate(), requestRepair, repairs };
}

/**
 * A handler's dependencies for unit tests: `agent` for every node, an in-memory bucket, a silent
 * log; dead letters are recorded in `letters` and repair requests in `repairs`. `extra` replaces any.
 */
export function handlerDeps(agent: AgentClient, extra: Partial<HandlerDeps> = {}) {
  const letters: { reason: DeadLetterReason; problems: string[] }[] = [];
  const { repairs, ...isolated } = isolation();
  const deps: HandlerDeps = {
    prefix: "berth",
    ...isolated,
    bucket: memoryBucket(),
    agentFor: () => agent,
    deadLetter: (_source, reason, problems) => {
      letters.push({ reason, problems });
      return Promise.resolve();
    },
    log: createLogger("handler", "silent"),
    ...extra,
  };
  return { deps, letters, repairs };
}

/**
 * The state bucket's contract (compare-and-set on a revision, subject-style key filters) in memory;
 * a deleted key keeps its deletion's marker (`deleted`), as JetStream's does until the bucket's TTL.
 */
export function memoryBucket(): StateBucket & { entries: Map<string, StateEntry>; deleted: Map<string, number> } {
  const entries = new Map<string, StateEntry>();
  const deleted = new Map<string, number>();
  let revision = 0;
  const matches = (filter: string, key: string) => {
    const f = filter.split(".");
    const k = key.split(".");
    return f.length === k.length && f.every((t, i) => t === "*" || t === k[i]);
  };
  const write = (key: string, value: Uint8Array) => {
    deleted.delete(key);
    entries.set(key, { value, revision: ++revision, created: new Date() });
    return Promise.resolve(revision);
  };
  return {
    entries,
    deleted,
    ttlSeconds: 7 * 24 * 3600,
    get(key) {
      return Promise.resolve(entries.get(key));
    },
    compareAndSet(key, value, expected) {
      if ((entries.get(key)?.revision ?? 0) !== expected) return Promise.resolve(undefined);
      return write(key, value);
    },
    createFresh(key, value) {
      return entries.has(key) || deleted.has(key) ? Promise.resolve(undefined) : write(key, value);
    },
    deleteAt(key, expected) {
      if ((entries.get(key)?.revision ?? 0) !== expected) return Promise.resolve(false);
      deleted.set(key, ++revision);
      entries.delete(key);
      return Promise.resolve(true);
    },
    entriesMatching(filter) {
      return Promise.resolve(new Map([...entries].filter(([k]) => matches(filter, k))));
    },
  };
}

/**
 * An in-memory agent for unit tests of the handler's logic (the HTTP contract is covered by the
 * agent double). Understands the `Meta.k == "v" and …` filters berth sends; `gate` lets a test
 * hold a call until it decides to release it.
 */
export function memoryAgent() {
  const services = new Map<string, ServiceRegistration>();
  const calls: string[] = [];
  let failure: Error | undefined;
  let gate: ((op: string) => Promise<void>) | undefined;
  /** TTL check ID → the status last set with updateCheck. */
  const checkStatus = new Map<string, string>();
  const agent: AgentClient & {
    services_: typeof services;
    checkStatus: typeof checkStatus;
    calls: string[];
    failWith(err: Error | undefined): void;
    gateWith(g: ((op: string) => Promise<void>) | undefined): void;
  } = {
    services_: services,
    checkStatus,
    calls,
    failWith: (err) => void (failure = err),
    gateWith: (g) => void (gate = g),
    async register(service) {
      calls.push(`register ${service.ID}`);
      await gate?.(`register ${service.ID}`);
      if (failure) throw failure;
      services.set(service.ID, service);
    },
    async deregister(id) {
      calls.push(`deregister ${id}`);
      await gate?.(`deregister ${id}`);
      if (failure) throw failure;
      return services.delete(id);
    },
    services(filter) {
      calls.push(`services ${filter}`);
      if (failure) return Promise.reject(failure);
      const wanted = [...filter.matchAll(/Meta\.(\w+) == "([^"]*)"/g)].map((m) => [m[1]!, m[2]!] as const);
      // fromEntries, as JSON.parse does, makes an ID such as `__proto__` an own key.
      return Promise.resolve(
        Object.fromEntries(
          [...services.values()]
            .filter((s) => wanted.every(([k, v]) => s.Meta?.[k] === v))
            .map((s) => [
              s.ID,
              { ID: s.ID, Service: s.Name, Tags: s.Tags ?? [], Meta: s.Meta ?? {}, Port: s.Port ?? 0, Address: s.Address ?? "" },
            ]),
        ),
      );
    },
    async updateCheck(checkId, status) {
      calls.push(`update ${checkId} ${status}`);
      await gate?.(`update ${checkId}`);
      if (failure) throw failure;
      checkStatus.set(checkId, status);
    },
    async close() {},
  };
  return agent;
}

/** The problems of the ConfigError `load` throws (it must throw one). */
export function configProblems(load: () => unknown): string[] {
  try {
    load();
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  assert.fail("expected a ConfigError");
}
