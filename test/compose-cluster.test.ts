// compose.cluster.yaml over compose.yaml: three NATS servers, each named, in one cluster, each routing
// to exactly the other two and healthy once in the cluster's JetStream. Their three nats-server
// command lines, run as they are (host names mapped to loopback), form a JetStream cluster that takes
// berth's streams with three replicas, one on each server.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { connectBus, ensureJetStream, streamSettings } from "../common/nats/index.ts";
import { jetstreamManager } from "../common/nats/sdk.ts";
import { loadHandlerConfig } from "../handler/config.ts";
import { streamNames } from "../schemas/index.ts";
import { cleanupAll, registerCleanup } from "./harness/cleanup.ts";
import { httpGet } from "./harness/http.ts";
import { canStartNatsServer, natsServerBinary, sweepStaleNats } from "./harness/nats.ts";
import { freePort } from "./harness/ports.ts";
import { spawnDaemon, stopDaemon, type Daemon } from "./harness/proc.ts";
import { killTreeSync, pidsWithCmdline } from "./harness/proc-scan.ts";
import { claimDir } from "./harness/stale.ts";
import { requireOrSkip } from "./harness/prereq.ts";
import { waitFor } from "./harness/wait.ts";
import { CLUSTER, ENV, available, natsServers, resolved, type Service } from "./compose-fixture.ts";

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

describe("compose", () => {
  after(cleanupAll);

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
});
