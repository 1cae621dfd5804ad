// A throw-away NATS cluster of real nats-servers with JetStream, routes on loopback, one store each.
//
//   const cluster = await startNatsCluster(3);
//   cluster.url                      // nats://127.0.0.1:<p1>,nats://127.0.0.1:<p2>,nats://127.0.0.1:<p3>
//   await cluster.kill(1)            // SIGKILL of server n1 (its store stays)
//   await cluster.start(1)           // n1 again, same ports and store: it catches up from the others
//   await cluster.leaderOf("BERTH_EVENTS")   // the index of the server leading a stream
//   await cluster.leaderOf("BERTH_EVENTS", "BERTH_handlers")   // … or one of its consumers
//   await startNatsCluster(3, { deferred: true })   // ports and stores chosen, no server started yet:
//                                                    // the test starts each with start(i) when it wants
//
// Each server: `nats-server -c <dir>/n<i>.conf` (server_name n<i>, client, monitoring and cluster
// ports on 127.0.0.1, jetstream store <dir>/n<i>). Ready when every server answers /healthz and
// JetStream's meta group has a leader. Runs under tini like startNatsServer; the temp dir and every
// server are removed by stop(), by cleanupAll(), or by the next run after this process was killed.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { registerCleanup } from "./cleanup.ts";
import { httpGet } from "./http.ts";
import { natsServerBinary, sweepStaleNats } from "./nats.ts";
import { freePort } from "./ports.ts";
import { spawnDaemon, stopDaemon, type Daemon } from "./proc.ts";
import { killTreeSync, pidsWithCmdline } from "./proc-scan.ts";
import { claimDir } from "./stale.ts";
import { waitFor } from "./wait.ts";

export type NatsCluster = {
  /** Every server's client URL, comma-separated: NATS_URL for berth. */
  url: string;
  urls: string[];
  /** Each server's monitoring endpoint (http://127.0.0.1:<port>). */
  monitors: string[];
  size: number;
  /** Server i's process is running. */
  running(i: number): boolean;
  /** The running servers' process IDs (the bench reads their CPU and memory). */
  pids(): number[];
  /** SIGKILL of server i (1-based); its store stays for start(i). */
  kill(i: number): Promise<void>;
  /** Starts server i again (same ports, same store) and waits until it answers. */
  start(i: number): Promise<void>;
  /** The 1-based index of the server leading stream `name` (or its consumer `consumer`), as the servers' monitoring says. */
  leaderOf(name: string, consumer?: string): Promise<number>;
  /** Servers (1-based) that hold `name` with every message `upTo` its last sequence (a caught-up replica or the leader). */
  current(name: string): Promise<number[]>;
  stop(): Promise<void>;
};

type Jsz = {
  server_name?: string;
  meta_cluster?: { leader?: string };
  account_details?: {
    stream_detail?: {
      name: string;
      cluster?: { leader?: string; replicas?: { name: string; current: boolean }[] };
      state: { last_seq: number };
      consumer_detail?: { name: string; cluster?: { leader?: string } }[];
    }[];
  }[];
};

export async function startNatsCluster(size = 3, opts: { deferred?: boolean } = {}): Promise<NatsCluster> {
  const bin = natsServerBinary();
  if (bin === undefined) throw new Error("nats-server binary not found");
  sweepStaleNats();
  const dir = mkdtempSync("/tmp/berth-nats-");
  claimDir(dir, "nats");
  const servers = await Promise.all(
    Array.from({ length: size }, async (_, k) => ({
      name: `n${k + 1}`,
      port: await freePort(),
      monitor: await freePort(),
      route: await freePort(),
    })),
  );
  const daemons = new Map<number, Daemon>();
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      try {
        await Promise.all([...daemons.values()].map((d) => stopDaemon(d, 5000)));
      } finally {
        rmSync(dir, { recursive: true, force: true });
        unregister();
      }
    })());
  const unregister = registerCleanup(`nats cluster (${dir})`, stop, () => {
    killTreeSync(pidsWithCmdline(`${dir}/`));
    rmSync(dir, { recursive: true, force: true });
  });
  const server = (i: number) => {
    const s = servers[i - 1];
    if (!s) throw new Error(`no server ${i} in a cluster of ${size}`);
    return s;
  };
  const jsz = async (i: number): Promise<Jsz> => {
    const res = await httpGet(`http://127.0.0.1:${server(i).monitor}/jsz?consumers=true&config=false`, { timeoutMs: 1000 });
    return JSON.parse(res.body) as Jsz;
  };
  const start = async (i: number) => {
    const s = server(i);
    const conf = join(dir, `${s.name}.conf`);
    const routes = servers.filter((o) => o !== s).map((o) => `"nats-route://127.0.0.1:${o.route}"`);
    mkdirSync(join(dir, s.name), { recursive: true });
    writeFileSync(
      conf,
      [
        `server_name: ${s.name}`,
        `listen: "127.0.0.1:${s.port}"`,
        `http: "127.0.0.1:${s.monitor}"`,
        `jetstream { store_dir: "${join(dir, s.name)}" }`,
        `cluster { name: berth-test, listen: "127.0.0.1:${s.route}", routes: [${routes.join(", ")}] }`,
      ].join("\n"),
    );
    daemons.set(i, await spawnDaemon(bin, ["-c", conf], join(dir, `${s.name}.log`), { supervised: true }));
    await waitFor(async () => (await httpGet(`http://127.0.0.1:${s.monitor}/healthz`, { timeoutMs: 1000 })).status === 200, {
      what: `nats-server ${s.name} healthy`,
      timeoutMs: 30_000,
    });
  };
  const runningIndexes = () => [...daemons.entries()].filter(([, d]) => d.running()).map(([i]) => i);
  try {
    if (!opts.deferred) {
      await Promise.all(servers.map((_, k) => start(k + 1)));
      await waitFor(async () => (await jsz(1)).meta_cluster?.leader, { what: "a JetStream meta leader", timeoutMs: 30_000 });
    }
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
  const indexOf = (name: string | undefined) => servers.findIndex((s) => s.name === name) + 1;
  /** The stream as its leader sees it: only the leader knows whether each replica is current. */
  const details = async (name: string) => {
    for (const i of runningIndexes()) {
      const found = (await jsz(i).catch(() => undefined))?.account_details
        ?.flatMap((a) => a.stream_detail ?? [])
        .find((d) => d.name === name);
      if (found?.cluster?.leader === server(i).name) return found;
    }
    return undefined;
  };
  /** The leader of the stream's consumer, as the server leading it says (a running one). */
  const consumerLeader = async (name: string, consumer: string) => {
    for (const i of runningIndexes()) {
      const found = (await jsz(i).catch(() => undefined))?.account_details
        ?.flatMap((a) => a.stream_detail ?? [])
        .find((d) => d.name === name)
        ?.consumer_detail?.find((c) => c.name === consumer);
      if (found?.cluster?.leader === server(i).name) return found.cluster.leader;
    }
    return undefined;
  };
  const urls = servers.map((s) => `nats://127.0.0.1:${s.port}`);
  return {
    url: urls.join(","),
    urls,
    monitors: servers.map((s) => `http://127.0.0.1:${s.monitor}`),
    size,
    running: (i) => daemons.get(i)?.running() ?? false,
    pids: () => [...daemons.values()].filter((d) => d.running()).map((d) => d.pid),
    async kill(i) {
      const d = daemons.get(i);
      if (!d) return;
      process.kill(d.pid, "SIGKILL");
      await d.exited;
    },
    start,
    async leaderOf(name, consumer) {
      const leader = async () => (consumer === undefined ? (await details(name))?.cluster?.leader : await consumerLeader(name, consumer));
      return waitFor(async () => indexOf(await leader()) || undefined, {
        what: `the leader of ${consumer === undefined ? name : `${name} > ${consumer}`}`,
        timeoutMs: 30_000,
      });
    },
    async current(name) {
      const d = await details(name);
      if (!d?.cluster) return [];
      return [indexOf(d.cluster.leader), ...(d.cluster.replicas ?? []).filter((r) => r.current).map((r) => indexOf(r.name))].filter(
        (i) => i > 0,
      );
    },
    stop,
  };
}
