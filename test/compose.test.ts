// compose.yaml: `docker-compose config` (Debian's docker-compose) accepts it and resolves the
// stack the README describes; every variable it sets for the emitter and the handler is one the
// programs read (measured: their own config loaders run on the resolved environment), and the
// variables whose defaults cannot work inside the stack are set and wired to the right services.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { describe, test, type TestContext } from "node:test";
import { loadEmitterConfig } from "../emitter/config.ts";
import { agentEntryFor } from "../handler/agents.ts";
import { agentDirectory, loadHandlerConfig } from "../handler/config.ts";
import { findBinary } from "./harness/bin.ts";
import { requireOrSkip } from "./harness/prereq.ts";

const ROOT = resolve(import.meta.dirname, "..");

type Service = {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  /** docker-compose 1.x prints `ip:host:container/proto`, or the long form when no host IP is given. */
  ports?: (string | { published?: number; target: number; host_ip?: string })[];
  group_add?: string[];
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number };
  healthcheck?: { test?: string[] };
  read_only?: boolean;
};
type Compose = { services: Record<string, Service>; volumes?: Record<string, unknown> };

const composeBin = () => findBinary("docker-compose", ["/usr/bin/docker-compose"]);

/** `docker-compose config` with `env` (PATH kept, nothing else inherited): exit status, output, stderr. */
function composeConfig(env: Record<string, string>): { status: number | null; out: string; err: string } {
  const r = spawnSync(composeBin()!, ["--project-directory", ROOT, "-f", join(ROOT, "compose.yaml"), "config"], {
    env: { PATH: process.env.PATH ?? "", ...env },
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

/** The resolved stack as data: docker-compose 1.x prints YAML only, read with the PyYAML it runs on. */
function resolved(env: Record<string, string>): Compose {
  const r = composeConfig(env);
  assert.equal(r.status, 0, r.err);
  const json = spawnSync("python3", ["-c", "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)"], {
    input: r.out,
    encoding: "utf8",
  });
  assert.equal(json.status, 0, json.stderr);
  return JSON.parse(json.stdout) as Compose;
}

/** The variables `load` reads from its environment (every one it asks for), and what it made of `env`. */
function readBy<T>(load: (env: NodeJS.ProcessEnv) => T, env: Record<string, string>): { read: Set<string>; config: T } {
  const read = new Set<string>();
  const spy = new Proxy(env, {
    get(target, key, receiver) {
      if (typeof key === "string") read.add(key);
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
  return { read, config: load(spy) };
}

/** A port entry as `host_ip:published:target` text, whichever form compose printed it in. */
const portText = (p: string | { published?: number; target: number; host_ip?: string }) =>
  typeof p === "string" ? p : `${p.host_ip ?? ""}:${p.published ?? ""}:${p.target}`;

const LOOPBACK = /\b(127\.\d+\.\d+\.\d+|localhost|\[::1\])\b/;

/** Each program's own config loader: what it reads is what it asks its environment for. */
const PROGRAMS: Record<"emitter" | "handler", (env: NodeJS.ProcessEnv) => object> = {
  emitter: loadEmitterConfig,
  handler: loadHandlerConfig,
};

describe("compose", () => {
  const available = (t: TestContext) =>
    requireOrSkip(
      t,
      "docker-compose (Debian's package) and python3 with PyYAML",
      composeBin() !== undefined && spawnSync("python3", ["-c", "import yaml"]).status === 0,
    );
  const DOCKER_GID = "4242";

  test("compose - docker-compose config accepts compose.yaml and refuses it without DOCKER_GID", (t) => {
    if (!available(t)) return;
    const version = spawnSync(composeBin()!, ["version", "--short"], { encoding: "utf8" }).stdout.trim();
    t.diagnostic(`docker-compose ${version}`);
    const ok = composeConfig({ DOCKER_GID });
    assert.equal(ok.status, 0, ok.err);
    const missing = composeConfig({});
    assert.notEqual(missing.status, 0, "DOCKER_GID is required");
    assert.match(missing.err, /DOCKER_GID/);
  });

  test("compose - the stack: NATS with JetStream on a volume, a Consul server and a client agent, the emitter, two handlers", (t) => {
    if (!available(t)) return;
    const { services, volumes } = resolved({ DOCKER_GID });
    assert.deepEqual(Object.keys(services).sort(), ["consul-agent", "consul-server", "emitter", "handler", "nats"]);

    const nats = services.nats!;
    assert.deepEqual(nats.command?.slice(0, 3), ["-js", "-sd", "/data"]);
    const natsVolume = nats.volumes?.find((v) => v.split(":")[1] === "/data")?.split(":")[0];
    assert.ok(natsVolume && Object.hasOwn(volumes ?? {}, natsVolume), "the JetStream store is a named volume");

    const server = services["consul-server"]!;
    const agent = services["consul-agent"]!;
    assert.ok(server.command?.includes("-server"));
    assert.ok(!agent.command?.includes("-server"), "the agent is a client");
    assert.ok(agent.command?.includes("-retry-join=consul-server"), "the agent joins the server");

    const emitter = services.emitter!;
    assert.ok(emitter.volumes?.includes("/var/run/docker.sock:/var/run/docker.sock:ro"), "Docker socket mounted read-only");
    assert.deepEqual(emitter.group_add, [DOCKER_GID]);
    assert.equal(services.handler!.deploy?.replicas, 2);
    assert.equal(emitter.image, services.handler!.image, "one image for both");

    for (const [name, svc] of Object.entries(services)) {
      for (const port of (svc.ports ?? []).map(portText))
        assert.ok(port.startsWith("127.0.0.1:"), `${name} publishes ${port} on loopback only`);
      assert.ok(svc.healthcheck?.test?.length, `${name} has a healthcheck`);
      for (const [dependency, { condition }] of Object.entries(svc.depends_on ?? {})) {
        assert.equal(condition, "service_healthy", `${name} waits for ${dependency} to be healthy`);
      }
    }
    assert.deepEqual(Object.keys(emitter.depends_on ?? {}), ["nats"]);
    assert.deepEqual(Object.keys(services.handler!.depends_on ?? {}).sort(), ["consul-agent", "nats"]);
    assert.deepEqual(Object.keys(agent.depends_on ?? {}), ["consul-server"]);
  });

  test("compose - every variable set for the emitter and the handler is one the program reads, with a value it accepts", (t) => {
    if (!available(t)) return;
    const { services } = resolved({ DOCKER_GID });
    for (const [name, load] of Object.entries(PROGRAMS)) {
      const env = services[name]!.environment ?? {};
      const { read } = readBy(load, env); // throws a ConfigError listing every bad value
      const unread = Object.keys(env).filter((key) => !read.has(key));
      assert.deepEqual(unread, [], `${name}: compose sets variables ${name} never reads`);
    }
  });

  test("compose - what has no working default inside the stack is set, and wired to the right service", (t) => {
    if (!available(t)) return;
    const { services } = resolved({ DOCKER_GID });
    const env = (name: keyof typeof PROGRAMS) => services[name]!.environment ?? {};
    for (const [name, load] of Object.entries(PROGRAMS) as [keyof typeof PROGRAMS, (env: NodeJS.ProcessEnv) => object][]) {
      // A default naming loopback points at the program's own container: it must be overridden.
      const defaults = readBy(load, {}).config as Record<string, unknown>;
      for (const [key, value] of Object.entries(defaults)) {
        if (typeof value === "string" && LOOPBACK.test(value))
          assert.ok(key in env(name), `${name}: ${key} defaults to ${value}, compose must set it`);
      }
      const natsHost = new URL(env(name)["NATS_URL"]!).hostname;
      assert.ok(natsHost in services && services[natsHost]!.command?.includes("-js"), `${name}: NATS_URL names the JetStream service`);
      // The healthcheck asks /healthz on the metrics port, which exists only when BERTH_METRICS_PORT is set.
      const port = env(name)["BERTH_METRICS_PORT"];
      assert.ok(port, `${name}: BERTH_METRICS_PORT is set (healthcheck and /metrics)`);
      assert.ok(
        services[name]!.healthcheck!.test!.join(" ").includes(`127.0.0.1:${port}/healthz`),
        `${name}: the healthcheck asks /healthz on ${port}`,
      );
      assert.ok(
        services[name]!.ports?.map(portText).some((p) => p.endsWith(`:${port}/tcp`) || p.endsWith(`:${port}`)),
        `${name}: ${port} is published (on loopback)`,
      );
    }
    // The emitter speaks for a node; the handler must reach that node's agent, a Consul client agent of that name.
    const emitter = loadEmitterConfig(env("emitter"));
    assert.ok(emitter.BERTH_NODE, "BERTH_NODE is set: Docker's engine name in a container is not the Consul node's name");
    const url = agentEntryFor(agentDirectory(loadHandlerConfig(env("handler"))), emitter.BERTH_NODE)?.url;
    assert.ok(url, `the handler has an agent for ${emitter.BERTH_NODE}`);
    const agent = services[new URL(url).hostname];
    assert.ok(agent, `${url} names a compose service`);
    assert.ok(
      agent.command?.includes(`-node=${emitter.BERTH_NODE}`) && !agent.command.includes("-server"),
      `${url} is the client agent of ${emitter.BERTH_NODE}`,
    );
    const socket = new URL(emitter.DOCKER_HOST).pathname;
    assert.ok(
      services.emitter!.volumes?.some((v) => v.split(":")[1] === socket),
      `DOCKER_HOST ${socket} is the mounted socket`,
    );
  });
});
