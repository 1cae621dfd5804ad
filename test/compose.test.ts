// compose.yaml, alone and with compose.cluster.yaml over it (three NATS servers clustered):
// `docker-compose config` (Debian's docker-compose) accepts each and resolves the stack the docs
// describe; every variable it sets for the emitter and the handlers is one the programs read
// (measured: their own config loaders run on the resolved environment), and the variables whose
// defaults cannot work inside the stack are set and wired to the right services — NATS_URL to every
// NATS server of the stack, BERTH_REPLICAS to their number. The cluster's three nats-server command
// lines, run as they are (host names mapped to loopback), form a JetStream cluster that takes
// berth's streams with three replicas. The first run's lessons: the image is built once, the
// healthchecks ask /readyz (ready, not just alive), and the README's example HTTP check passes — its
// address is one node1's agent reaches from its own network namespace: shown on a real container,
// its check run from that namespace.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { join, resolve } from "node:path";
import { after, describe, test, type TestContext } from "node:test";
import { containerServices } from "../cli/container-services.ts";
import { connectBus, ensureJetStream, streamSettings } from "../common/nats/index.ts";
import { jetstreamManager } from "../common/nats/sdk.ts";
import { loadEmitterConfig } from "../emitter/config.ts";
import { dockerSource } from "../emitter/docker.ts";
import { agentEntryFor } from "../handler/agents.ts";
import { agentClient } from "../handler/consul.ts";
import { agentDirectory, loadHandlerConfig } from "../handler/config.ts";
import { stamped } from "../handler/fingerprint.ts";
import { loadMappingSettings } from "../handler/settings.ts";
import { streamNames } from "../schemas/index.ts";
import { findBinary } from "./harness/bin.ts";
import { cleanupAll, registerCleanup } from "./harness/cleanup.ts";
import { docker } from "./harness/docker-cli.ts";
import { canStartDockerd, missingForDockerd } from "./harness/dockerd.ts";
import { httpGet } from "./harness/http.ts";
import { TEST_IMAGE } from "./harness/image.ts";
import { canStartNatsServer, natsServerBinary, sweepStaleNats } from "./harness/nats.ts";
import { freePort } from "./harness/ports.ts";
import { spawnDaemon, stopDaemon, type Daemon } from "./harness/proc.ts";
import { killTreeSync, pidsWithCmdline } from "./harness/proc-scan.ts";
import { claimDir } from "./harness/stale.ts";
import { requireOrSkip } from "./harness/prereq.ts";
import { waitFor } from "./harness/wait.ts";
import { startPipeline } from "./pipeline/index.ts";

const ROOT = resolve(import.meta.dirname, "..");

type Service = {
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
};
type Compose = { services: Record<string, Service>; volumes?: Record<string, unknown> };

const composeBin = () => findBinary("docker-compose", ["/usr/bin/docker-compose"]);

/** The stacks: compose.yaml alone, and with the cluster's override over it. */
const SINGLE = ["compose.yaml"];
const CLUSTER = ["compose.yaml", "compose.cluster.yaml"];
const STACKS = [SINGLE, CLUSTER];
const stackName = (files: readonly string[]) => files.join(" + ");

/** `docker-compose config` of `files` with `env` (PATH kept, nothing else inherited): exit status, output, stderr. */
function composeConfig(
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
function resolved(env: Record<string, string>, files: readonly string[] = SINGLE): Compose {
  const r = composeConfig(env, files);
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
const hostNetwork = (svc: Service) => svc.network_mode === "host";
/** A Consul agent's HTTP port: -http-port, else Consul's default 8500. */
const consulHttpPort = (svc: Service) => svc.command?.find((a) => a.startsWith("-http-port="))?.split("=")[1] ?? "8500";

/** Each program's own config loader: what it reads is what it asks its environment for. */
const PROGRAMS: Record<"emitter" | "handler", (env: NodeJS.ProcessEnv) => object> = {
  emitter: loadEmitterConfig,
  handler: loadHandlerConfig,
};
/** The berth services of the stack, by program: the command each runs. */
const programOf = (svc: Service) => (svc.image === "berth:dev" ? (svc.command?.[0] as keyof typeof PROGRAMS | undefined) : undefined);
const berthServices = (services: Record<string, Service>) =>
  Object.entries(services).flatMap(([name, svc]) => {
    const program = programOf(svc);
    return program ? [{ name, svc, program, env: svc.environment ?? {} }] : [];
  });

/** The stack's NATS servers (a command with -js), by service name. */
const natsServers = (services: Record<string, Service>) =>
  Object.entries(services)
    .filter(([, svc]) => svc.command?.includes("-js"))
    .sort(([a], [b]) => a.localeCompare(b));
/** The value of a `--flag=value` argument of a service's command. */
const flagOf = (svc: Service, flag: string) => svc.command?.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);

/**
 * The NATS servers' command lines as compose gives them, run on this host: only what is the
 * container's is replaced — its store (-sd /data), its monitoring, client and cluster ports (each
 * server its own on loopback) and, in each route, the host name of the server it names (by that
 * server's loopback cluster port); every other argument is run as written. Ready when each answers
 * its compose healthcheck's URL (on its own monitoring port).
 */
async function runAsCompose(servers: [string, Service][]): Promise<{ urls: string[] }> {
  const bin = natsServerBinary()!;
  sweepStaleNats();
  const dir = mkdtempSync("/tmp/berth-nats-");
  claimDir(dir, "nats");
  const daemons: Daemon[] = [];
  registerCleanup(
    `compose's NATS cluster (${dir})`,
    async () => {
      await Promise.all(daemons.map((d) => stopDaemon(d, 5000)));
      rmSync(dir, { recursive: true, force: true });
    },
    () => {
      killTreeSync(pidsWithCmdline(`${dir}/`));
      rmSync(dir, { recursive: true, force: true });
    },
  );
  const ports = new Map<string, { client: number; monitor: number; route: number }>();
  for (const [name] of servers) ports.set(name, { client: await freePort(), monitor: await freePort(), route: await freePort() });
  const loopbackRoute = (url: string) => {
    const target = ports.get(new URL(url).hostname);
    assert.ok(target, `${url} names a NATS server of the stack`);
    return `nats://127.0.0.1:${target.route}`;
  };
  await Promise.all(
    servers.map(async ([name, svc]) => {
      const own = ports.get(name)!;
      const store = join(dir, name);
      mkdirSync(store);
      const args = svc.command!.map((arg, i, all) => {
        if (all[i - 1] === "-sd") return store;
        if (all[i - 1] === "-m") return String(own.monitor);
        if (arg.startsWith("--cluster=")) return `--cluster=nats://127.0.0.1:${own.route}`;
        if (arg.startsWith("--routes=")) return `--routes=${arg.slice("--routes=".length).split(",").map(loopbackRoute).join(",")}`;
        return arg;
      });
      // A command line nats-server refuses fails the test at once, with the server's own words.
      const log = join(dir, `${name}.log`);
      const refused = (err: unknown) =>
        new Error(`${name}, run as compose runs it, exited: ${readFileSync(log, "utf8").trim().split("\n").slice(-3).join(" | ")}`, {
          cause: err,
        });
      const daemon = await spawnDaemon(bin, [...args, "-a", "127.0.0.1", "-p", String(own.client)], log, { supervised: true }).catch(
        (err: unknown) => {
          throw refused(err);
        },
      );
      daemons.push(daemon);
      const exited = new AbortController();
      void daemon.exited.then(() => exited.abort(refused(undefined)));
      const health = new URL(svc.healthcheck!.test!.find((a) => a.startsWith("http://"))!);
      health.port = String(own.monitor);
      await waitFor(async () => (await httpGet(health.href, { timeoutMs: 1000 }).catch(() => undefined))?.status === 200, {
        what: `${name} healthy as its compose healthcheck asks (${health.pathname}${health.search})`,
        timeoutMs: 30_000,
        signal: exited.signal,
      });
    }),
  );
  return { urls: servers.map(([name]) => `nats://127.0.0.1:${ports.get(name)!.client}`) };
}

/** This host's address, as `hostname -I` names it first: a non-loopback IPv4 of one of its interfaces. */
const thisHostAddress = () =>
  Object.values(networkInterfaces())
    .flat()
    .find((i) => i?.family === "IPv4" && !i.internal)?.address;

/**
 * The README's quick start: whether it sets BERTH_HOST_IP for compose, and its example container
 * (`docker run -d … -e SERVICE_…=… -p <host>:<container> <image>`).
 */
function readmeQuickStart(): { setsHostIp: boolean; env: string[]; containerPort: number } {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const quickStart = readme.slice(readme.indexOf("## Quick start"), readme.indexOf("\n## ", readme.indexOf("## Quick start") + 1));
  const line = quickStart.split("\n").find((l) => l.startsWith("docker run -d "));
  assert.ok(line, "README's quick start runs a container");
  const env = [...line.matchAll(/-e (SERVICE_\S+)/g)].map((m) => m[1]!);
  const port = /-p (\d+):(\d+)/.exec(line);
  assert.ok(port, "the example publishes a port");
  return { setsHostIp: /\bBERTH_HOST_IP=/.test(quickStart), env, containerPort: Number(port[2]) };
}

describe("compose", () => {
  after(cleanupAll);
  const available = (t: TestContext) =>
    requireOrSkip(
      t,
      "docker-compose (Debian's package) and python3 with PyYAML",
      composeBin() !== undefined && spawnSync("python3", ["-c", "import yaml"]).status === 0,
    );
  const DOCKER_GID = "4242";
  const BERTH_HOST_IP = "192.0.2.10";
  const ENV = { DOCKER_GID, BERTH_HOST_IP };

  for (const files of STACKS) {
    const stack = stackName(files);

    test(`compose - docker-compose config accepts ${stack} and refuses it without DOCKER_GID or BERTH_HOST_IP`, (t) => {
      if (!available(t)) return;
      const version = spawnSync(composeBin()!, ["version", "--short"], { encoding: "utf8" }).stdout.trim();
      t.diagnostic(`docker-compose ${version}`);
      const ok = composeConfig(ENV, files);
      assert.equal(ok.status, 0, ok.err);
      for (const missing of ["DOCKER_GID", "BERTH_HOST_IP"] as const) {
        const r = composeConfig(Object.fromEntries(Object.entries(ENV).filter(([k]) => k !== missing)), files);
        assert.notEqual(r.status, 0, `${missing} is required`);
        assert.match(r.err, new RegExp(missing));
      }
    });

    test(`compose - ${stack}: NATS with JetStream, each server on a volume of its own, node1's Consul agent in the host's network, the emitter, two handlers`, (t) => {
      if (!available(t)) return;
      const { services, volumes } = resolved(ENV, files);
      const servers = natsServers(services);
      const expected = files === CLUSTER ? ["nats", "nats-2", "nats-3"] : ["nats"];
      assert.deepEqual(
        servers.map(([name]) => name),
        expected,
      );
      assert.deepEqual(Object.keys(services).sort(), ["consul", "emitter", "handler", "handler-2", ...expected].sort());

      const stores = servers.map(([name, nats]) => {
        assert.deepEqual(nats.command?.slice(0, 3), ["-js", "-sd", "/data"], name);
        const volume = nats.volumes?.find((v) => v.split(":")[1] === "/data")?.split(":")[0];
        assert.ok(volume && Object.hasOwn(volumes ?? {}, volume), `${name}: its JetStream store is a named volume`);
        return volume;
      });
      assert.equal(new Set(stores).size, servers.length, "one store each");

      const consul = services.consul!;
      assert.ok(hostNetwork(consul), "the agent runs in the host's network namespace, as a node agent does in production");
      assert.ok(consul.command?.includes("-node=node1"));
      for (const flag of ["-bind=127.0.0.1", "-client=127.0.0.1"]) assert.ok(consul.command?.includes(flag), `${flag}: loopback only`);

      const emitter = services.emitter!;
      assert.ok(emitter.volumes?.includes("/var/run/docker.sock:/var/run/docker.sock:ro"), "Docker socket mounted read-only");
      assert.deepEqual(emitter.group_add, [DOCKER_GID]);
      const berth = berthServices(services);
      assert.deepEqual(berth.map((b) => `${b.name}=${b.program}`).sort(), ["emitter=emitter", "handler-2=handler", "handler=handler"]);
      assert.deepEqual(
        Object.entries(services)
          .filter(([, svc]) => svc.build !== undefined)
          .map(([name]) => name),
        ["emitter"],
        "the image is built once; the handlers use it by name",
      );

      for (const [name, svc] of Object.entries(services)) {
        for (const port of (svc.ports ?? []).map(portText))
          assert.ok(port.startsWith("127.0.0.1:"), `${name} publishes ${port} on loopback only`);
        if (hostNetwork(svc)) assert.deepEqual(svc.ports ?? [], [], `${name} is in the host's network: nothing to publish`);
        assert.ok(svc.healthcheck?.test?.length, `${name} has a healthcheck`);
        for (const [dependency, { condition }] of Object.entries(svc.depends_on ?? {})) {
          // A handler waits for the emitter only to have its image built: started is enough.
          const wanted = dependency === "emitter" ? "service_started" : "service_healthy";
          assert.equal(condition, wanted, `${name} waits for ${dependency}`);
        }
      }
      // berth's processes start once every NATS server is healthy: a stream's replicas need their servers.
      assert.deepEqual(Object.keys(emitter.depends_on ?? {}).sort(), expected);
      for (const { name, svc, program } of berth) {
        if (program === "handler")
          assert.deepEqual(Object.keys(svc.depends_on ?? {}).sort(), ["consul", "emitter", ...expected].sort(), name);
      }
    });

    test(`compose - ${stack}: every variable set for the emitter and the handlers is one the program reads, with a value it accepts`, (t) => {
      if (!available(t)) return;
      for (const { name, program, env } of berthServices(resolved(ENV, files).services)) {
        const { read } = readBy(PROGRAMS[program], env); // throws a ConfigError listing every bad value
        const unread = Object.keys(env).filter((key) => !read.has(key));
        assert.deepEqual(unread, [], `${name}: compose sets variables ${program} never reads`);
      }
    });

    test(`compose - ${stack}: what has no working default inside the stack is set, and wired to the right service`, (t) => {
      if (!available(t)) return;
      const { services } = resolved(ENV, files);
      /** The service an URL reaches from `from`: by name on compose's network, or on 127.0.0.1 from the host's. */
      const reached = (from: Service, url: string): [string, Service] | undefined => {
        const { hostname, port } = new URL(url);
        if (!hostNetwork(from)) return Object.hasOwn(services, hostname) ? [hostname, services[hostname]!] : undefined;
        if (!LOOPBACK.test(hostname)) return undefined;
        return Object.entries(services).find(
          ([, svc]) =>
            (hostNetwork(svc) && svc.command?.includes("-client=127.0.0.1") && consulHttpPort(svc) === port) ||
            svc.ports?.map(portText).some((p) => p.startsWith(`127.0.0.1:${port}:`)),
        );
      };
      const servers = natsServers(services).map(([name]) => name);
      const berth = berthServices(services);
      for (const { name, svc, program, env } of berth) {
        // A default naming loopback points at the program's own container: set it (in the host's network, explicitly).
        const defaults = readBy(PROGRAMS[program], {}).config as Record<string, unknown>;
        for (const [key, value] of Object.entries(defaults)) {
          if (typeof value === "string" && LOOPBACK.test(value))
            assert.ok(key in env, `${name}: ${key} defaults to ${value}, compose must set it`);
        }
        // NATS_URL names every server (a process fails over to any), each reached from where the process runs.
        const named = env["NATS_URL"]!.split(",").map((url) => {
          const nats = reached(svc, url);
          assert.ok(nats?.[1].command?.includes("-js"), `${name}: ${url} (of NATS_URL) reaches a JetStream server`);
          return nats![0];
        });
        assert.deepEqual([...named].sort(), servers, `${name}: NATS_URL names every NATS server of the stack, once`);
        // As many replicas as servers: one where there is one server, three on the cluster, so losing one loses nothing.
        const config = PROGRAMS[program](env) as { BERTH_REPLICAS: number };
        assert.equal(config.BERTH_REPLICAS, servers.length, `${name}: BERTH_REPLICAS`);
        // The healthcheck asks /readyz (503 until NATS, and for the emitter Docker, are there) on the metrics port.
        const port = env["BERTH_METRICS_PORT"];
        assert.ok(port, `${name}: BERTH_METRICS_PORT is set (healthcheck and /metrics)`);
        assert.ok(
          svc.healthcheck!.test!.join(" ").includes(`127.0.0.1:${port}/readyz`),
          `${name}: the healthcheck asks /readyz on ${port}`,
        );
        if (hostNetwork(svc)) assert.equal(env["BERTH_METRICS_ADDRESS"], "127.0.0.1", `${name}: its metrics on loopback only`);
        else
          assert.ok(
            svc.ports?.map(portText).some((p) => p.endsWith(`:${port}/tcp`) || p.endsWith(`:${port}`)),
            `${name}: ${port} is published (on loopback)`,
          );
      }
      assert.equal(new Set(berth.map((b) => b.env["BERTH_METRICS_PORT"])).size, berth.length, "one metrics port each");
      // The emitter speaks for a node; every handler must reach that node's agent, a Consul agent of that name.
      const emitter = loadEmitterConfig(services.emitter!.environment ?? {});
      assert.ok(emitter.BERTH_NODE, "BERTH_NODE is set: Docker's engine name in a container is not the Consul node's name");
      for (const { name, svc, program, env } of berth) {
        if (program !== "handler") continue;
        const url: string | undefined = agentEntryFor(agentDirectory(loadHandlerConfig(env)), emitter.BERTH_NODE)?.url;
        assert.ok(url, `${name} has an agent for ${emitter.BERTH_NODE}`);
        const agent = reached(svc, url);
        assert.ok(
          agent?.[1].command?.includes(`-node=${emitter.BERTH_NODE}`),
          `${name}: ${url} is the Consul agent of ${emitter.BERTH_NODE}`,
        );
      }
      const socket = new URL(emitter.DOCKER_HOST).pathname;
      assert.ok(
        services.emitter!.volumes?.some((v) => v.split(":")[1] === socket),
        `DOCKER_HOST ${socket} is the mounted socket`,
      );
    });
  }

  test("compose - the cluster: each server named, one cluster name, routes to exactly the other servers, healthy once in the cluster", (t) => {
    if (!available(t)) return;
    const servers = natsServers(resolved(ENV, CLUSTER).services);
    const names = servers.map(([, svc]) => flagOf(svc, "--server_name"));
    assert.equal(new Set(names).size, servers.length, `a clustered JetStream server needs a server_name of its own: ${names.join(", ")}`);
    assert.equal(new Set(servers.map(([, svc]) => flagOf(svc, "--cluster_name"))).size, 1, "one cluster name");
    assert.ok(flagOf(servers[0]![1], "--cluster_name"), "a clustered JetStream server needs a cluster name");
    const routePort = (svc: Service) => new URL(flagOf(svc, "--cluster")!).port;
    for (const [name, svc] of servers) {
      assert.equal(routePort(svc), "6222", `${name} takes routes on 6222`);
      const routes = flagOf(svc, "--routes")!
        .split(",")
        .map((r) => new URL(r));
      assert.deepEqual(
        routes.map((r) => `${r.hostname}:${r.port}`).sort(),
        servers
          .filter(([other]) => other !== name)
          .map(([other, o]) => `${other}:${routePort(o)}`)
          .sort(),
        `${name} routes to every other server, at its cluster port`,
      );
      assert.ok(svc.command?.includes("--no_advertise"), `${name}: clients keep to the servers their NATS_URL names`);
      assert.ok(
        svc.healthcheck?.test?.some((a) => /^http:\/\/127\.0\.0\.1:8222\/healthz$/.test(a)),
        `${name}: healthy once in the cluster's JetStream, its streams current (/healthz, not js-enabled-only)`,
      );
    }
  });

  test("compose - the cluster's three command lines, run as they are, form a JetStream cluster that keeps berth's streams on three servers", async (t) => {
    if (!available(t) || !requireOrSkip(t, "nats-server", canStartNatsServer())) return;
    const { services } = resolved(ENV, CLUSTER);
    const servers = natsServers(services);
    const cluster = await runAsCompose(servers);
    // berth's set-up as the handler of the stack does it (its settings, BERTH_REPLICAS=3 among them), on loopback.
    const handlerEnv = { ...services.handler!.environment!, NATS_URL: cluster.urls.join(",") };
    const config = loadHandlerConfig(handlerEnv);
    const bus = await connectBus({ NATS_URL: config.NATS_URL, BERTH_PREFIX: config.BERTH_PREFIX }, "compose-cluster-test");
    registerCleanup("compose cluster bus", () => bus.drain());
    const notes = await ensureJetStream(bus, streamSettings(config, handlerEnv));
    t.diagnostic(notes.map((n) => `${n.level}: ${n.text}`).join("\n"));
    assert.deepEqual(
      notes.filter((n) => n.level === "warn"),
      [],
    );
    const jsm = await jetstreamManager(bus.nc);
    const names = streamNames(config.BERTH_PREFIX);
    for (const stream of [names.events, names.deadLetters, names.repairs, `KV_${names.state}`]) {
      const info = await waitFor(
        async () => {
          const i = await jsm.streams.info(stream);
          return i.cluster?.replicas?.length === servers.length - 1 ? i : undefined;
        },
        { what: `${stream} on every server`, timeoutMs: 30_000 },
      );
      assert.equal(info.config.num_replicas, servers.length, stream);
      assert.deepEqual(
        [info.cluster!.leader!, ...info.cluster!.replicas!.map((r) => r.name)].sort(),
        servers.map(([, svc]) => flagOf(svc, "--server_name")).sort(),
        `${stream}: one replica on each server`,
      );
    }
  });

  test("compose - the README's example check passes: its address is one node1's agent reaches from its network namespace", async (t) => {
    if (!available(t)) return;
    const address = thisHostAddress();
    if (!requireOrSkip(t, `root and dockerd (missing: ${missingForDockerd().join(", ") || "none"})`, canStartDockerd())) return;
    if (!requireOrSkip(t, "a non-loopback IPv4 address on this host", address !== undefined)) return;
    // As the README's quick start says: BERTH_HOST_IP this host's address if it sets it, else compose's default.
    const example = readmeQuickStart();
    const { services } = resolved(example.setsHostIp ? { DOCKER_GID, BERTH_HOST_IP: address! } : { DOCKER_GID });
    const emitterEnv = services.emitter!.environment ?? {};
    const handlerEnv = services.handler!.environment ?? {};
    const emitter = loadEmitterConfig(emitterEnv);
    const node = emitter.BERTH_NODE;
    assert.ok(node, "BERTH_NODE is set");
    // The agent the handlers register in, and the network namespace its checks run from.
    const agentUrl = agentEntryFor(agentDirectory(loadHandlerConfig(handlerEnv)), node)!.url;
    const agentService = Object.values(services).find((svc) => svc.command?.includes(`-node=${node}`));
    assert.ok(agentService, `${agentUrl}: node ${node}'s agent`);
    const network = hostNetwork(agentService) ? "host" : "own";

    // The README's container, on a real engine publishing on all addresses as a default dockerd does, and node1's agent
    // double whose checks run from the compose agent's network namespace.
    const p = await startPipeline({
      prefix: "compose",
      nats: false,
      nodes: [{ name: node, ip: "0.0.0.0", engine: "docker", agent: { network, address: "127.0.0.1" } }],
    });
    if (!p.ready(t)) return;
    const engine = p.engine(node);
    const hostPort = await freePort();
    const args = example.env.flatMap((e) => ["-e", e]);
    const id = await docker(
      engine,
      "run",
      "-d",
      "--pull=never",
      "-e",
      `PORT=${example.containerPort}`,
      ...args,
      "-p",
      `${hostPort}:${example.containerPort}`,
      TEST_IMAGE,
    );
    const found = await containerServices(dockerSource(engine.host), id, {
      node,
      hostIp: emitter.BERTH_HOST_IP,
      settings: loadMappingSettings(handlerEnv),
    });
    const [service] = found?.mapping.services ?? [];
    assert.ok(service?.Check?.HTTP, "the example has an HTTP check");
    // Registered in an agent whose checks run from the compose agent's network namespace.
    const agent = p.agent(node);
    const client = agentClient(agent.url);
    registerCleanup("compose agent client", () => client.close());
    await client.register(stamped(service));
    const check = await waitFor(
      () => {
        const c = Object.values(agent.checks()).find((c) => c.ServiceID === service.ID);
        return c?.Status === "passing" ? c : c?.Output ? c : undefined;
      },
      { what: "the example's check run", timeoutMs: 20_000 },
    );
    assert.equal(check.Status, "passing", check.Output);
    assert.equal(new URL(service.Check.HTTP).hostname, emitter.BERTH_HOST_IP, "checked at BERTH_HOST_IP");
    assert.equal(emitter.BERTH_HOST_IP, address, "this host's address");
    assert.deepEqual(found!.mapping.warnings, [], "no warning: not a loopback address");
    // What `berth explain` (the same path) says of the old default, 127.0.0.1, which only an agent in the host's network reaches.
    const onLoopback = await containerServices(dockerSource(engine.host), id, {
      node,
      hostIp: "127.0.0.1",
      settings: loadMappingSettings(handlerEnv),
    });
    assert.match(
      onLoopback?.mapping.warnings.join("\n") ?? "",
      /the check targets 127\.0\.0\.1:\d+, a loopback address: the node's Consul agent runs the check from its own network namespace/,
    );
  });
});
