// Shared by test/compose-*.test.ts: the stacks (compose.yaml alone, and with compose.cluster.yaml
// over it), `docker-compose config` of each (Debian's docker-compose) and the resolved stack as data,
// the stack's berth services (by program) and NATS servers, what each program reads of its
// environment (also of Swarm's tasks: test/swarm-stack.test.ts), and the prerequisites of those tests.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import type { TestContext } from "node:test";
import { loadEmitterConfig } from "../emitter/config.ts";
import { loadHandlerConfig } from "../handler/config.ts";
import { findBinary } from "./harness/bin.ts";
import { requireOrSkip } from "./harness/prereq.ts";

export const ROOT = resolve(import.meta.dirname, "..");

export type Service = {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  network_mode?: string;
  /** docker-compose 1.x prints `ip:host:container/proto`, or the long form when no host IP is given. */
  ports?: (string | { published?: number; target: number; host_ip?: string })[];
  group_add?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[] };
  read_only?: boolean;
  profiles?: string[];
  mem_limit?: string | number;
};
export type Compose = { services: Record<string, Service>; volumes?: Record<string, unknown> };

export const composeBin = () => findBinary("docker-compose", ["/usr/bin/docker-compose"]);

/** The stacks: compose.yaml alone, and with the cluster's override over it. */
export const SINGLE = ["compose.yaml"];
export const CLUSTER = ["compose.yaml", "compose.cluster.yaml"];
export const STACKS = [SINGLE, CLUSTER];
export const stackName = (files: readonly string[]) => files.join(" + ");

/** `docker-compose config` of `files` with `env` (PATH kept, nothing else inherited): exit status, output, stderr. */
export function composeConfig(
  env: Record<string, string>,
  files: readonly string[] = SINGLE,
): { status: number | null; out: string; err: string } {
  const r = spawnSync(composeBin()!, ["--project-directory", ROOT, ...files.flatMap((f) => ["-f", join(ROOT, f)]), "config"], {
    env: { PATH: process.env.PATH ?? "", ...env },
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

/** The resolved stack as data: docker-compose 1.x prints YAML only, read with the PyYAML it runs on. */
export function resolved(env: Record<string, string>, files: readonly string[] = SINGLE): Compose {
  const r = composeConfig(env, files);
  assert.equal(r.status, 0, r.err);
  const json = spawnSync("python3", ["-c", "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)"], {
    input: r.out,
    encoding: "utf8",
  });
  assert.equal(json.status, 0, json.stderr);
  return JSON.parse(json.stdout) as Compose;
}

/** A port entry as `host_ip:published:target` text, whichever form compose printed it in. */
export const portText = (p: string | { published?: number; target: number; host_ip?: string }) =>
  typeof p === "string" ? p : `${p.host_ip ?? ""}:${p.published ?? ""}:${p.target}`;

export const hostNetwork = (svc: Service) => svc.network_mode === "host";

/** Each program's own config loader: what it reads is what it asks its environment for. */
export const PROGRAMS: Record<"emitter" | "handler", (env: NodeJS.ProcessEnv) => object> = {
  emitter: loadEmitterConfig,
  handler: loadHandlerConfig,
};
/** The variables `load` reads from its environment (every one it asks for), and what it made of `env`. */
export function readBy<T>(load: (env: NodeJS.ProcessEnv) => T, env: Record<string, string>): { read: Set<string>; config: T } {
  const read = new Set<string>();
  const spy = new Proxy(env, {
    get(target, key, receiver) {
      if (typeof key === "string") read.add(key);
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
  return { read, config: load(spy) };
}

/** The berth services of the stack, by program: the command each runs (the `berth` CLI service runs neither). */
const programOf = (svc: Service) => {
  const command = svc.image === "berth:dev" ? svc.command?.[0] : undefined;
  return command !== undefined && Object.hasOwn(PROGRAMS, command) ? (command as keyof typeof PROGRAMS) : undefined;
};
export const berthServices = (services: Record<string, Service>) =>
  Object.entries(services).flatMap(([name, svc]) => {
    const program = programOf(svc);
    return program ? [{ name, svc, program, env: svc.environment ?? {} }] : [];
  });

/** The stack's NATS servers (a command with -js), by service name. */
export const natsServers = (services: Record<string, Service>) =>
  Object.entries(services)
    .filter(([, svc]) => svc.command?.includes("-js"))
    .sort(([a], [b]) => a.localeCompare(b));

/** docker-compose and PyYAML (which reads its output) are there, else the test is skipped (failed under CI=true). */
export const available = (t: TestContext) =>
  requireOrSkip(
    t,
    "docker-compose (Debian's package) and python3 with PyYAML",
    composeBin() !== undefined && spawnSync("python3", ["-c", "import yaml"]).status === 0,
  );

/** The variables compose requires, with values that resolve the stack. */
export const DOCKER_GID = "4242";
export const BERTH_HOST_IP = "192.0.2.10";
export const ENV = { DOCKER_GID, BERTH_HOST_IP };
