// Secrets never printed, with real processes: a nats-server that requires a password, handler and
// emitter processes at debug/trace level, `berth status`. NATS_PASSWORD, NATS_TOKEN,
// CONSUL_HTTP_TOKEN and per-agent tokens must appear in no output: not on a NATS authentication
// failure, not in a configuration error, not when an agent refuses the token and quotes it back,
// not in `berth status` (table or JSON), not in dead letters.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { readDeadLetters } from "./dead-letters.ts";
import { event } from "./builders.ts";
import { cleanupAll } from "./harness/cleanup.ts";
import { freePort } from "./harness/ports.ts";
import { startPipeline, type Pipeline } from "./pipeline/index.ts";
import { startQuotingAgent } from "./quoting-agent.ts";

const PREFIX = "secr";
const BIN = new URL("../bin/berth.js", import.meta.url).pathname;
const secret = (what: string) => `${what}-${randomBytes(8).toString("hex")}`;
const NATS_PASSWORD = secret("natspw");
const SECRETS = {
  NATS_PASSWORD,
  WRONG_PASSWORD: secret("wrongpw"),
  NATS_TOKEN: secret("natstoken"),
  CONSUL_HTTP_TOKEN: secret("consultoken"),
  AGENT1_TOKEN: secret("agent1token"),
  AGENT3_TOKEN: secret("agent3token"),
};

type Run = { code: number | null; stdout: string; stderr: string };

/** Runs a berth command to its end (a process that fails to start exits by itself). */
const runBerth = (args: string[], env: Record<string, string>, timeout = 30_000) =>
  new Promise<Run>((resolve) =>
    execFile(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? "", ...env }, timeout }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
    ),
  );

function assertNoSecret(text: string, where: string): void {
  for (const [name, value] of Object.entries(SECRETS))
    assert.ok(!text.includes(value), `${name} printed by ${where}:\n${text.slice(0, 3000)}`);
}

describe("security: secrets never printed by the processes", () => {
  let p: Pipeline;
  let handlerEnv: Record<string, string>;

  before(async () => {
    const quoting = await startQuotingAgent();
    // node1 sends its own token, node2 CONSUL_HTTP_TOKEN, both to an agent that quotes it; node3's agent is down.
    p = await startPipeline({
      prefix: PREFIX,
      nats: { config: `authorization { users = [ { user: berth, password: "${NATS_PASSWORD}" } ] }` },
      nodes: [
        { name: "node1", agent: { url: quoting } },
        { name: "node2", agent: { url: quoting } },
        { name: "node3", agent: "absent" },
      ],
      env: { NATS_USER: "berth", NATS_PASSWORD },
      handlerEnv: { CONSUL_HTTP_TOKEN: SECRETS.CONSUL_HTTP_TOKEN },
      handlers: 0,
      bus: true,
    });
    if (!p.started) return;
    handlerEnv = { ...p.handlerEnv(), BERTH_CONSUL_AGENTS: p.agentsEnv({ node1: SECRETS.AGENT1_TOKEN, node3: SECRETS.AGENT3_TOKEN }) };
  });
  after(cleanupAll);
  const prereq = (t: import("node:test").TestContext) => p.ready(t);

  test("redact processes - NATS authentication failures (password, token) are reported without the secret", async (t) => {
    if (!prereq(t)) return;
    const handler = await runBerth(["handler"], { ...handlerEnv, NATS_PASSWORD: SECRETS.WRONG_PASSWORD, LOG_LEVEL: "trace" });
    const emitter = await runBerth(["emitter"], {
      NATS_URL: p.natsUrl,
      NATS_TOKEN: SECRETS.NATS_TOKEN,
      BERTH_NODE: "node1",
      DOCKER_HOST: "unix:///nonexistent/docker.sock",
      LOG_LEVEL: "trace",
    });
    for (const [name, run] of [
      ["handler", handler],
      ["emitter", emitter],
    ] as const) {
      assert.ok(run.code === 1 || run.code === 2, `${name} exited ${run.code}: ${run.stderr}`);
      assert.match(run.stderr, /Authorization Violation/, `${name} says why`);
      assertNoSecret(run.stdout + run.stderr, name);
    }
  });

  test("redact processes - a configuration error lists the problems without the secrets", async (t) => {
    if (!prereq(t)) return;
    const run = await runBerth(["handler"], {
      ...handlerEnv,
      NATS_TOKEN: SECRETS.NATS_TOKEN, // a second way to authenticate: refused
      BERTH_CONSUL_AGENTS: `node4=ftp://u:${SECRETS.WRONG_PASSWORD}@h;token=${SECRETS.AGENT3_TOKEN},${handlerEnv.BERTH_CONSUL_AGENTS},node5=http://u:${SECRETS.WRONG_PASSWORD}@h`,
    });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /set only one way to authenticate to NATS/);
    assert.match(run.stderr, /agent of node4 must be http:\/\/ or https:\/\/, not "ftp:\/\/\[redacted\]@h"/);
    assert.match(run.stderr, /agent of node5 must not carry credentials/);
    assertNoSecret(run.stdout + run.stderr, "the handler's configuration error");
  });

  test("redact processes - agents refusing tokens, an agent down: logs, dead letters and berth status hold no secret", async (t) => {
    if (!prereq(t)) return;
    const handler = await p.startHandler({ ...handlerEnv, LOG_LEVEL: "trace" });
    for (const node of ["node1", "node2", "node3"]) await p.publish(event({ node }));
    await handler.waitForLog(
      (l) => l.msg === "dead-lettered" && l["subject"] === `${PREFIX}.v1.node2.container.started`,
      "node2's event dead-lettered",
    );
    await handler.waitForLog(
      (l) => l.msg === "dead-lettered" && l["subject"] === `${PREFIX}.v1.node1.container.started`,
      "node1's event dead-lettered",
    );
    await handler.waitForLog(
      (l) => l.msg === "deferred" && l["subject"] === `${PREFIX}.v1.node3.container.started`,
      "node3's event left to its repair (agent down)",
    );
    const table = await runBerth(["status"], handlerEnv);
    const json = await runBerth(["status", "--json"], handlerEnv);
    const unreachable = await runBerth(["status"], {
      ...handlerEnv,
      NATS_URL: `nats://berth:${NATS_PASSWORD}@127.0.0.1:${await freePort()}`,
    });
    await handler.stop();
    const letters = (await readDeadLetters(p.bus, 10)).map((m) => new TextDecoder().decode(m.data));

    const logs = handler.logs.map((l) => JSON.stringify(l)).join("\n") + handler.stderr.join("\n");
    assertNoSecret(logs, "the handler's log");
    assertNoSecret(letters.join("\n"), "the dead letters");
    for (const [name, run] of [
      ["berth status", table],
      ["berth status --json", json],
      ["berth status (NATS unreachable)", unreachable],
    ] as const) {
      assertNoSecret(run.stdout + run.stderr, name);
    }
    // Positive controls: what was printed is the real thing, with the secrets censored.
    assert.equal(letters.length, 2);
    for (const text of [logs, letters.join(), table.stdout, json.stdout])
      assert.match(text, /Permission denied: token \\?"\[redacted\]\\?" lacks service:write/);
    assert.match(table.stdout, /dead letters: 2 \(agent-rejected 2\)/);
    assert.match(logs, /"msg":"deferred"/);
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /NATS at nats:\/\/\[redacted\]@127\.0\.0\.1:\d+ did not answer/);
  });
});
