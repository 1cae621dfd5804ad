// A throw-away nats-server with JetStream for one test file.
//
//   nats-server -js -a 127.0.0.1 -p <free> -m <free> -sd <tmp>/store [-c <tmp>/extra.conf]
// Ready when the client port accepts TCP and GET /healthz?js-enabled-only=true on the monitoring
// port (bound to 127.0.0.1 as well, it follows -a) answers 200 {"status":"ok"}. Command-line flags
// win over the extra config file. Log: <tmp>/nats.log (`logFile`). stop(): SIGTERM, SIGKILL after 5 s, the
// temp dir (store included) is removed. restart(): same port, same store (JetStream state survives);
// restart({ whileDown }) runs a check while the server is away.
// Runs under tini (see proc.ts): if the test process is SIGKILLed the server gets SIGTERM, and the
// next startNatsServer() removes the orphaned temp dir (stale.ts). `pid` is nats-server's own PID.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findBinary } from "./bin.ts";
import { registerCleanup } from "./cleanup.ts";
import { httpGet } from "./http.ts";
import { canConnect, freePort } from "./ports.ts";
import { failOnExit, spawnDaemon, stopDaemon, tailFile } from "./proc.ts";
import { killTreeSync, pidsWithCmdline } from "./proc-scan.ts";
import { claimDir, sweepStale } from "./stale.ts";
import type { Daemon } from "./proc.ts";
import { waitFor } from "./wait.ts";

export type NatsServer = {
  url: string; // nats://127.0.0.1:<port>
  port: number;
  monitorPort: number;
  storeDir: string;
  /** nats-server's log (stdout and stderr), kept across restart(). */
  logFile: string;
  pid: number; // changes on restart()
  stop(): Promise<void>;
  /** `whileDown`: awaited between the stop and the start, to look at clients while NATS is away. */
  restart(opts?: { whileDown?: () => Promise<void> }): Promise<void>;
};

export function natsServerBinary(): string | undefined {
  return findBinary("nats-server", ["/usr/sbin/nats-server"]);
}

export function canStartNatsServer(): boolean {
  return natsServerBinary() !== undefined;
}

export async function startNatsServer(opts: { config?: string } = {}): Promise<NatsServer> {
  const bin = natsServerBinary();
  if (bin === undefined) throw new Error("nats-server binary not found");
  sweepStaleNats();
  const dir = mkdtempSync("/tmp/berth-nats-");
  claimDir(dir, "nats");
  const storeDir = join(dir, "store");
  const logFile = join(dir, "nats.log");
  let daemon: Daemon | undefined;
  const unregister = registerCleanup(
    `nats-server (${dir})`,
    () => stop(),
    () => {
      killTreeSync(pidsWithCmdline(`${dir}/`));
      rmSync(dir, { recursive: true, force: true });
    },
  );
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      try {
        if (daemon) await stopDaemon(daemon, 5000);
      } finally {
        rmSync(dir, { recursive: true, force: true });
        unregister();
      }
    })());

  try {
    mkdirSync(storeDir);
    const extra = opts.config === undefined ? [] : ["-c", join(dir, "extra.conf")];
    if (opts.config !== undefined) writeFileSync(join(dir, "extra.conf"), opts.config);
    let port = 0;
    let monitorPort = 0;
    const launch = async () => {
      const args = ["-js", "-a", "127.0.0.1", "-p", String(port), "-m", String(monitorPort), "-sd", storeDir, ...extra];
      daemon = await spawnDaemon(bin, args, logFile, { supervised: true });
      await ready(daemon, port, monitorPort);
    };
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      monitorPort = await freePort();
      try {
        await launch();
        break;
      } catch (error) {
        if (daemon) await stopDaemon(daemon, 1000);
        // another process may have taken a port between freePort() and the server's bind
        if (attempt >= 3 || !/address already in use/i.test(tailFile(logFile, 3))) throw error;
      }
    }
    return {
      url: `nats://127.0.0.1:${port}`,
      port,
      monitorPort,
      storeDir,
      logFile,
      get pid() {
        return daemon?.pid ?? 0;
      },
      stop,
      restart: async ({ whileDown } = {}) => {
        if (stopping) throw new Error("nats-server was stopped");
        if (daemon) await stopDaemon(daemon, 5000);
        try {
          await whileDown?.();
        } finally {
          await launch();
        }
      },
    };
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
}

/** Removes nats-server temp dirs (and their servers) left by test processes that were SIGKILLed. */
export function sweepStaleNats(): string[] {
  return sweepStale("nats", (dir) => {
    killTreeSync(pidsWithCmdline(`${dir}/`));
    rmSync(dir, { recursive: true, force: true });
  });
}

async function ready(daemon: Daemon, port: number, monitorPort: number): Promise<void> {
  const died = failOnExit(daemon, "nats-server");
  const healthz = `http://127.0.0.1:${monitorPort}/healthz?js-enabled-only=true`;
  await Promise.race([
    died.promise,
    waitFor(async () => (await canConnect("127.0.0.1", port)) && (await httpGet(healthz, { timeoutMs: 1000 })).status === 200, {
      what: `nats-server on 127.0.0.1:${port} (healthz on ${monitorPort})`,
      signal: died.signal,
    }),
  ]);
}
