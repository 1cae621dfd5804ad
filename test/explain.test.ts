// `berth explain` as users run it (`node bin/berth.js explain …`) against a private dockerd.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { cleanupAll } from "./harness/cleanup.ts";
import type { DockerEngine } from "./harness/docker-engine.ts";
import { TEST_IMAGE } from "./harness/image.ts";
import { startPipeline, type Pipeline } from "./pipeline/index.ts";

const IP = "127.0.0.62";

type Result = { code: number; stdout: string; stderr: string };

/** Runs the CLI with only PATH, DOCKER_HOST and `env` in its environment. */
function explain(dockerHost: string, args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve) => {
    const childEnv = { PATH: process.env.PATH ?? "", DOCKER_HOST: dockerHost, ...env };
    execFile(process.execPath, ["bin/berth.js", "explain", ...args], { env: childEnv, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe("explain", () => {
  let p: Pipeline;
  let engine: DockerEngine;
  const docker = (...args: string[]) => p.docker("explain", ...args);
  const run = (...args: string[]) => docker("run", "-d", "--pull=never", ...args);

  before(async () => {
    // A Docker engine only: explain reads Docker, nothing else.
    p = await startPipeline({ prefix: "explain", nats: false, nodes: [{ name: "explain", ip: IP, engine: "docker", agent: false }] });
    if (p.started) engine = p.engine("explain");
  });
  after(cleanupAll);

  const prereq = (t: import("node:test").TestContext) => p.ready(t);

  test("explain - prints the exact register bodies of a running container, and skipped ports on stderr", async (t) => {
    if (!prereq(t)) return;
    const id = await run(
      "--name",
      "web1",
      "-p",
      "18180:8080",
      "--expose",
      "9000",
      "-e",
      "SERVICE_NAME=web",
      "-e",
      "SERVICE_TAGS=a,b",
      "-e",
      "SERVICE_8080_CHECK_HTTP=/health",
      "-l",
      "SERVICE_REGION=eu",
      TEST_IMAGE,
    );
    const out = await explain(engine.host, ["web1", "--node", "node7", "--tags", "x"]);
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(JSON.parse(out.stdout), [
      {
        ID: `node7:web1:${id.slice(0, 12)}:8080`,
        Name: "web",
        Tags: ["a", "b", "x"],
        Address: IP,
        Port: 18180,
        Meta: { region: "eu", berth_node: "node7", berth_container: id },
        Check: { HTTP: `http://${IP}:18180/health`, Interval: "10s" },
      },
    ]);
    assert.match(out.stderr, /^skipped 9000\/tcp: exposed but not published/m);
  });

  test("explain - a name Consul's DNS cannot serve is warned about on stderr, as Consul's agent does", async (t) => {
    if (!prereq(t)) return;
    await run("--name", "dnsname", "-p", "18183:8080", "-e", "SERVICE_NAME=my web ☃ café", TEST_IMAGE);
    const out = await explain(engine.host, ["dnsname", "--node", "node7"]);
    assert.equal(out.code, 0, out.stderr);
    assert.equal((JSON.parse(out.stdout) as { Name: string }[])[0]?.Name, "my web ☃ café", "registered all the same");
    assert.match(
      out.stderr,
      /^warning: service name "my web ☃ café" will not be discoverable via DNS due to invalid characters\. Valid characters include all alpha-numerics and dashes\.$/m,
    );
  });

  test("explain - flags override the environment; unflagged variables still apply", async (t) => {
    if (!prereq(t)) return;
    await run("--name", "web2", "-p", "18181:8080", TEST_IMAGE);
    const out = await explain(engine.host, ["web2", "--node", "node7", "--tags", "flag"], {
      BERTH_TAGS: "env",
      BERTH_INTERNAL: "true",
      BERTH_NODE: "ignored",
    });
    assert.equal(out.code, 0, out.stderr);
    const [svc] = JSON.parse(out.stdout) as { Tags: string[]; Port: number; Address: string; ID: string }[];
    assert.deepEqual([svc?.Tags, svc?.Port, svc?.ID.split(":")[0]], [["flag"], 8080, "node7"]);
    assert.match(svc?.Address ?? "", /^10\.213\./);
  });

  test("explain - prints what berth adds beyond registrator: Connect, tag override, weights, check fields, tagged addresses; names the sidecar", async (t) => {
    if (!prereq(t)) return;
    const id = await run(
      ...["--name", "mesh1", "-p", "127.0.0.1:18183:8080", "-p", "[::1]:18183:8080", "-e", "SERVICE_NAME=pay,billing"],
      ...["-e", "SERVICE_CONNECT=sidecar", "-e", "SERVICE_CONNECT_UPSTREAMS=db:9191", "-l", "SERVICE_ENABLE_TAG_OVERRIDE=1"],
      ...["-l", "SERVICE_WEIGHTS=passing=3", "-e", "SERVICE_CHECK_TCP=1", "-e", "SERVICE_CHECK_SUCCESS_BEFORE_PASSING=2"],
      TEST_IMAGE,
    );
    const out = await explain(engine.host, ["mesh1", "--node", "node7", "--name-suffix", "never", "--address-family", "ipv6"]);
    assert.equal(out.code, 0, out.stderr);
    const base = `node7:mesh1:${id.slice(0, 12)}:8080`;
    const body = (name: string) => ({
      ID: `${base}:${name}`,
      Name: name,
      Tags: [],
      Address: "::1",
      TaggedAddresses: { lan_ipv4: { Address: "127.0.0.1", Port: 18183 } },
      Port: 18183,
      Meta: { berth_sidecar: "true", berth_node: "node7", berth_container: id },
      EnableTagOverride: true,
      Weights: { Passing: 3, Warning: 1 },
      Connect: {
        SidecarService: {
          Meta: { berth_node: "node7", berth_sidecar_of: id },
          Proxy: { Upstreams: [{ DestinationName: "db", LocalBindPort: 9191 }] },
        },
      },
      Check: { TCP: "[::1]:18183", Interval: "10s", SuccessBeforePassing: 2 },
    });
    assert.deepEqual(JSON.parse(out.stdout), [body("pay"), body("billing")]);
    assert.match(out.stderr, new RegExp(`^sidecar: the agent creates ${base}:pay-sidecar-proxy \\(connect-proxy\\) for ${base}:pay`, "m"));
    assert.match(out.stderr, /^warning: 8080\/tcp: the check targets \[::1\]:18183, a loopback address/m);
  });

  test("explain - a stopped container under on-success: nothing to register, the reason on stderr", async (t) => {
    if (!prereq(t)) return;
    const id = await run("--name", "failed", "-p", "18182:8080", TEST_IMAGE, "sh", "-c", "exit 3");
    await docker("wait", id);
    const out = await explain(engine.host, ["failed", "--deregister", "on-success", "--node", "node7"]);
    assert.deepEqual([out.code, JSON.parse(out.stdout)], [0, []]);
    assert.match(out.stderr, /exited with code 3: services kept \(BERTH_DEREGISTER=on-success\)/);
  });

  test("explain - bad settings are listed together (exit 2); an unknown container exits 1", async (t) => {
    if (!prereq(t)) return;
    const bad = await explain(engine.host, ["web1", "--host-ip", "nowhere", "--deregister", "never", "--address-family", "ipx"], {
      BERTH_INTERNAL: "maybe",
    });
    assert.equal(bad.code, 2);
    for (const key of ["BERTH_HOST_IP", "BERTH_DEREGISTER", "BERTH_INTERNAL", "BERTH_ADDRESS_FAMILY"])
      assert.match(bad.stderr, new RegExp(key));
    const missing = await explain(engine.host, ["nosuch", "--node", "node7"]);
    assert.deepEqual([missing.code, missing.stdout], [1, ""]);
    assert.match(missing.stderr, /no such container: nosuch/);
  });
});
