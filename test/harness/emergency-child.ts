// Self-tests of the safety nets. A child process starts a private dockerd (with a running,
// published container) and a nats-server, prints what it started, and then either
//  - "exit": calls process.exit(0) without stopping anything → cleanup.ts's exit hook must tear
//    everything down synchronously; or
//  - "kill": waits to be SIGKILLed by the caller → tini's parent-death SIGTERM stops the daemons,
//    and sweepStaleEngines()/sweepStaleNats() must remove the rest.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export type ChildReport = {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  dir: string;
  bridge: string;
  natsDir: string;
  ip: string;
  port: number;
  daemons: number[]; // dockerd, containerd, nats-server
  pids: number[]; // everything of the engine: tini, daemons, shim, docker-proxy, container
  sockets: string[]; // the shim's socket(s) in /run/containerd/s
};

export async function runChild(mode: "exit" | "kill", ip: string): Promise<ChildReport> {
  const harness = new URL(".", import.meta.url).pathname;
  const repo = new URL("../..", import.meta.url).pathname;
  const tmp = mkdtempSync("/tmp/berth-child-");
  const script = join(tmp, "child.mts"); // .mts: /tmp has no package.json saying "type": "module"
  writeFileSync(
    script,
    `
import { dirname } from "node:path";
import { docker } from "${harness}docker-cli.ts";
import { startDockerd } from "${harness}dockerd.ts";
import { TEST_IMAGE, ensureTestImage } from "${harness}image.ts";
import { startNatsServer } from "${harness}nats.ts";
import { canConnect, freePort } from "${harness}ports.ts";
import { descendants, pidsWithCmdline, unixSocketPaths } from "${harness}proc-scan.ts";
import { waitFor } from "${harness}wait.ts";
const port = await freePort(${JSON.stringify(ip)});
const engine = await startDockerd({ name: "hchild", ip: ${JSON.stringify(ip)} });
const nats = await startNatsServer();
await ensureTestImage(engine);
await docker(engine, "run", "-d", "--pull=never", "-p", port + ":8080", TEST_IMAGE);
await waitFor(() => canConnect(${JSON.stringify(ip)}, port), { what: "published port" });
const own = pidsWithCmdline(engine.dir + "/");
const daemons = [engine.dockerdPid, engine.containerdPid, nats.pid];
const sockets = unixSocketPaths(own).filter((p) => p.startsWith("/run/containerd/s/"));
console.log(JSON.stringify({ dir: engine.dir, bridge: engine.bridge, natsDir: dirname(nats.storeDir), ip: ${JSON.stringify(ip)}, port, daemons, sockets, pids: [...own, ...descendants(own)] }));
if (${JSON.stringify(mode)} === "exit") process.exit(0);
setInterval(() => {}, 60_000);
`,
  );
  try {
    const child = spawn(process.execPath, [script], { cwd: repo, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      if (mode === "kill" && stdout.includes("\n")) child.kill("SIGKILL");
    });
    const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.once("close", (code, sig) => resolve([code, sig])),
    );
    const line = stdout.trim().split("\n").pop() ?? "";
    if (!line.startsWith("{")) throw new Error(`child reported nothing (exit ${exitCode ?? signal}): ${stderr}`);
    return { exitCode, signal, stderr, ...(JSON.parse(line) as Omit<ChildReport, "exitCode" | "signal" | "stderr">) };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
