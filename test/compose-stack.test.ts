// The quick start, run for real: the README's commands on compose.yaml's whole stack, with Debian's
// docker-compose 1.29, against a private dockerd (DOCKER_HOST; its socket for /var/run/docker.sock).
// No public image can be pulled here: test/standins builds local stand-ins under the names
// compose.yaml and the Dockerfile use, kept between runs in the engine's data-root (the first run
// builds them, a few minutes). The stack's fixed ports (4222, 8222, 8500, 9464–9466 on loopback,
// the example's 8080) must be free. Everything but the cached images goes at the end: the stack
// with its volumes and network, the example container, the dockerd.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { cleanupAll, registerCleanup } from "./harness/cleanup.ts";
import { canStartDockerd, missingForDockerd } from "./harness/dockerd.ts";
import { canConnect } from "./harness/ports.ts";
import { requireOrSkip } from "./harness/prereq.ts";
import { waitFor } from "./harness/wait.ts";
import { buildBerthImage, startStandinEngine } from "./standins/engine.ts";
import { ROOT, available } from "./compose-fixture.ts";

after(cleanupAll);

const PORTS = [4222, 8222, 8500, 8080, 9464, 9465, 9466];

/** The shell lines of the README's quick start, in order (comments after `#` dropped). */
function quickStartLines(): string[] {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const start = readme.indexOf("## Quick start");
  const section = readme.slice(start, readme.indexOf("\n## ", start + 1));
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) =>
    m[1]!
      .split("\n")
      .map((l) => l.replace(/\s+#.*$/, "").trim())
      .filter(Boolean),
  );
}

test("compose - the README's quick start on the whole stack: up, every service healthy, the example registered with its check passing, berth status, down", async (t) => {
  if (!available(t)) return;
  if (!requireOrSkip(t, `root and dockerd (missing: ${missingForDockerd().join(", ") || "none"})`, canStartDockerd())) return;
  const busy = (await Promise.all(PORTS.map(async (p) => ((await canConnect("127.0.0.1", p)) ? [p] : [])))).flat();
  assert.deepEqual(busy, [], `the stack's ports are taken on this host: ${busy.join(", ")}`);

  const engine = await startStandinEngine("compose", "0.0.0.0", (text) => t.diagnostic(text));
  // berth's image, its stages kept as the cache of the README's `up --build` below (and of the swarm test's build).
  await buildBerthImage(engine, "berth:dev");

  // The README's lines as a user types them, against this engine: DOCKER_HOST for docker and
  // docker-compose, its socket where the README names /var/run/docker.sock (DOCKER_SOCKET for compose).
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "/root",
    DOCKER_HOST: engine.host,
    DOCKER_SOCKET: engine.socketPath,
    COMPOSE_PROJECT_NAME: "berth-quickstart",
    // vfs on a busy 2-core machine: compose 1.29 gives the engine 60 s per call by default.
    COMPOSE_HTTP_TIMEOUT: "300",
  };
  const sh = (line: string, timeoutMs = 120_000) => {
    const r = spawnSync("bash", ["-c", line.replaceAll("/var/run/docker.sock", engine.socketPath)], {
      cwd: ROOT,
      env,
      encoding: "utf8",
      timeout: timeoutMs,
    });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  registerCleanup("compose stack", () => Promise.resolve(void sh("docker-compose --profile cli down -v --remove-orphans", 120_000)));

  const lines = quickStartLines();
  const line = (pattern: RegExp) => {
    const found = lines.find((l) => pattern.test(l));
    assert.ok(found, `the README's quick start has a line matching ${String(pattern)}: ${lines.join(" | ")}`);
    return found;
  };
  // export BERTH_HOST_IP=… DOCKER_GID=…: read back what the line sets.
  const exported = sh(`${line(/^export /)} && echo "$BERTH_HOST_IP $DOCKER_GID"`);
  assert.equal(exported.code, 0, exported.err);
  const [hostIp, gid] = exported.out.trim().split(" ");
  assert.match(hostIp ?? "", /^\d+\.\d+\.\d+\.\d+$/, "BERTH_HOST_IP is this host's address");
  Object.assign(env, { BERTH_HOST_IP: hostIp!, DOCKER_GID: gid! });

  const up = sh(line(/^docker-compose up /), 900_000);
  assert.equal(up.code, 0, `${up.out}\n${up.err}`);
  const ps = line(/^docker-compose ps$/);
  const services = sh("docker-compose config --services").out.trim().split("\n").length - 1; // but the CLI's, which `up` leaves out
  await waitFor(
    () => {
      const rows = sh(ps)
        .out.split("\n")
        .filter((l) => /\bUp\b/.test(l));
      return rows.length === services && rows.every((l) => l.includes("(healthy)"));
    },
    { what: `every service "(healthy)" in ${ps}: ${sh(ps).out}`, timeoutMs: 180_000, intervalMs: 1000 },
  );

  const run = sh(line(/^docker run -d /));
  assert.equal(run.code, 0, run.err);
  const example = run.out.trim();
  const checks = line(/^curl -s http:\/\/127\.0\.0\.1:8500\/v1\/health\/checks\//);
  const passing = await waitFor(
    () => {
      const out = sh(checks).out;
      return /"Status":\s*"passing"/.test(out) ? out : undefined;
    },
    { what: `the example's check passing (${checks})`, timeoutMs: 30_000, intervalMs: 500 },
  );
  assert.match(passing, new RegExp(`"ServiceID":\\s*"node1:[^"]*:${example.slice(0, 12)}:80"`), "the example's service, in node1's agent");

  const status = sh(line(/ status$/), 120_000);
  assert.equal(status.code, 0, `${status.out}\n${status.err}`);
  assert.match(status.out, /^node1 +\S+ +\S+ +\d+ +\d+ +0 +0 +- +ok$/m, `berth status: node1 without drift, its agent ok:\n${status.out}`);

  // Removed with the container: what the quick start shows, undone.
  assert.equal(sh(`docker rm -f ${example}`).code, 0);
  await waitFor(() => sh(checks).out.trim() === "[]", { what: "the example's service removed", timeoutMs: 30_000, intervalMs: 500 });

  const down = sh(line(/^docker-compose down/), 180_000);
  assert.equal(down.code, 0, down.err);
  assert.equal(
    sh(ps)
      .out.split("\n")
      .filter((l) => /\bUp\b/.test(l)).length,
    0,
    "nothing of the stack runs after down",
  );
});
