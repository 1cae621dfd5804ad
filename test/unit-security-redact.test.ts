// Secrets never printed: NATS_PASSWORD, NATS_TOKEN, CONSUL_HTTP_TOKEN and per-agent tokens
// (`;token=` in BERTH_CONSUL_AGENTS) are censored in log lines, configuration errors and agent
// errors (which also become dead letters). Secrets are registered the way the processes do it,
// by loading their configuration, so a missing registration fails here too.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, describe, test } from "node:test";
import { ConfigError } from "../common/config.ts";
import { createLogger } from "../common/log.ts";
import { loadEmitterConfig } from "../emitter/config.ts";
import { agentPool } from "../consul/agent-pool.ts";
import { ConsulError } from "../consul/client.ts";
import { agentDirectory, loadHandlerConfig } from "../handler/config.ts";
import { handleMessage } from "../handler/consume.ts";
import type { DeadLetterReason } from "../handler/dead-letter.ts";
import { subjectFor } from "../schemas/index.ts";
import { bytesOf, event, isolation, memoryBucket, message } from "./builders.ts";
import { cleanupAll, registerCleanup } from "./harness/cleanup.ts";
import { startQuotingAgent } from "./quoting-agent.ts";

const secret = (what: string) => `${what}-${randomBytes(8).toString("hex")}`;
const NATS_PASSWORD = `${secret("natspw")}"\\quoted`; // JSON escapes it: the escaped form must go too
const NATS_TOKEN = secret("natstoken");
const CONSUL_HTTP_TOKEN = secret("consultoken");
const AGENT_TOKEN = secret("agenttoken");
const URL_PASSWORD = secret("urlpw");
const ALL = { NATS_PASSWORD, NATS_TOKEN, CONSUL_HTTP_TOKEN, AGENT_TOKEN, URL_PASSWORD };

/** Fails naming the secret and the text it was found in; escaped forms (JSON) count as found. */
function assertNoSecret(text: string, where: string): void {
  for (const [name, value] of Object.entries(ALL)) {
    for (const form of new Set([value, JSON.stringify(value).slice(1, -1)])) {
      assert.ok(!text.includes(form), `${name} printed in ${where}:\n${text.slice(0, 2000)}`);
    }
  }
}

describe("security: secrets never printed", () => {
  after(cleanupAll);

  // The processes register their secrets when they read their configuration.
  const handlerEnv = {
    NATS_USER: "berth",
    NATS_PASSWORD,
    CONSUL_HTTP_TOKEN,
    BERTH_CONSUL_AGENTS: `node1=http://127.0.0.1:1;token=${AGENT_TOKEN}`,
  };
  loadHandlerConfig(handlerEnv);
  loadEmitterConfig({ NATS_TOKEN });

  test("redact - every log line is censored, whatever field or message holds the secret", () => {
    const lines: string[] = [];
    const log = createLogger("handler", "trace", {}, "json", { write: (line: string) => void lines.push(line) });
    log.info({ token: NATS_TOKEN, password: NATS_PASSWORD }, "fields named as secrets");
    log.warn(
      { err: `agent said: bad token ${AGENT_TOKEN}`, nested: { list: [CONSUL_HTTP_TOKEN], deeper: { x: NATS_PASSWORD } } },
      "in values",
    );
    log.error(`connecting with ${NATS_TOKEN} to nats://berth:${URL_PASSWORD}@10.0.0.1:4222 failed`);
    log.debug({ headers: { "x-consul-token": CONSUL_HTTP_TOKEN, authorization: `Bearer ${AGENT_TOKEN}` } }, "request");
    log.trace({ err: new Error(`refused ${NATS_PASSWORD}`) }, "an error object");
    const pretty: string[] = [];
    createLogger("emitter", "info", {}, "pretty", { write: (line: string) => void pretty.push(line) }).info(
      { err: AGENT_TOKEN },
      `pretty ${NATS_TOKEN}`,
    );

    assert.equal(lines.length, 5, "every level was written");
    for (const line of [...lines, ...pretty]) assertNoSecret(line, "a log line");
    // Positive controls: the rest of each line is still there, the secrets were replaced.
    const all = lines.join("");
    for (const kept of [
      "fields named as secrets",
      "agent said: bad token [redacted]",
      "nats://[redacted]@10.0.0.1:4222",
      "refused [redacted]",
      "request",
    ]) {
      assert.ok(all.includes(kept), `${kept} in\n${all}`);
    }
    assert.match(pretty.join(""), /pretty \[redacted\]/);
  });

  test("redact - configuration errors never repeat a secret", () => {
    const bad = [
      { NATS_USER: "berth", NATS_PASSWORD, NATS_TOKEN, BERTH_CONSUL_AGENTS: `node1=ftp://u:${URL_PASSWORD}@h;token=${AGENT_TOKEN}` },
      {
        CONSUL_HTTP_TOKEN,
        BERTH_CONSUL_AGENTS: `node1=http://u:${URL_PASSWORD}@h:8500;token=${AGENT_TOKEN},bad node=http://x;token=${AGENT_TOKEN}`,
      },
      {
        BERTH_CONSUL_AGENTS: `node1=http://h:8500;token=${AGENT_TOKEN};token=${CONSUL_HTTP_TOKEN}`,
        BERTH_CONSUL_AGENT_TEMPLATE: `http://{node}:8500/${NATS_TOKEN}`,
      },
    ];
    for (const env of bad) {
      let error: unknown;
      try {
        loadHandlerConfig(env);
      } catch (err) {
        error = err;
      }
      assert.ok(error instanceof ConfigError, JSON.stringify(env));
      assertNoSecret(`${error.message}\n${error.problems.join("\n")}\n${error.stack}`, "a configuration error");
      assert.match(error.message, /BERTH_CONSUL_AGENTS/);
    }
  });

  test('redact - a token holding "," is cut there; its rest is never quoted as a bad entry', () => {
    const rest = secret("rest");
    for (const agents of [
      `node1=http://h:8500;token=ab,${rest}`,
      `node1=http://h:8500;token=ab,node2=${rest}`,
      `node1=http://h:8500;token=@/run/x,y=${rest}`,
    ]) {
      const problems = (() => {
        try {
          loadHandlerConfig({ BERTH_CONSUL_AGENTS: agents });
        } catch (err) {
          return (err as ConfigError).problems;
        }
        return assert.fail(`${agents} was accepted`);
      })();
      assert.ok(!problems.join("\n").includes(rest.slice(0, 8)), problems.join("\n"));
      assert.match(problems.join("\n"), /entry 2, after a token, is not <node>=<url>/);
    }
  });

  test("redact - an agent's refusal quoting the token: the error, the log line and the dead letter are censored", async () => {
    const agentUrl = await startQuotingAgent();
    const config = loadHandlerConfig({ ...handlerEnv, BERTH_CONSUL_AGENTS: `node1=${agentUrl};token=${AGENT_TOKEN},node3=${agentUrl}` });
    const pool = agentPool(agentDirectory(config), config.CONSUL_HTTP_TOKEN, undefined);
    registerCleanup("agent pool", () => pool.closeAll());
    const lines: string[] = [];
    const letters: { reason: DeadLetterReason; problems: string[] }[] = [];
    const deps = {
      prefix: "berth",
      ...isolation(),
      bucket: memoryBucket(),
      agentFor: pool.agentFor,
      deadLetter: (_m: unknown, reason: DeadLetterReason, problems: string[]) => {
        letters.push({ reason, problems });
        return Promise.resolve();
      },
      log: createLogger("handler", "debug", {}, "json", { write: (line: string) => void lines.push(line) }),
    };
    // node1 sends its own token, node3 CONSUL_HTTP_TOKEN: the agent quotes each back.
    const thrown: string[] = [];
    for (const node of ["node1", "node3"]) {
      await pool
        .agentFor(node)!
        .services("")
        .catch((err: unknown) => {
          assert.ok(err instanceof ConsulError);
          assert.equal(err.status, 403);
          thrown.push(`${err.message}\n${err.agentText}\n${err.stack}`);
        });
      const e = event({ node });
      const { msg, settled } = message(subjectFor("berth", e), bytesOf(e));
      await handleMessage(deps, msg);
      assert.deepEqual(settled, { acked: 1, naks: [] });
    }
    assert.equal(thrown.length, 2);
    assert.deepEqual(
      letters.map((l) => l.reason),
      ["agent-rejected", "agent-rejected"],
    );
    for (const text of [...thrown, ...lines, JSON.stringify(letters)]) assertNoSecret(text, "an agent error");
    // Positive control: the agent's text is there, with the token censored.
    assert.match(thrown.join(""), /403: Permission denied: token "\[redacted\]" lacks service:write/);
    assert.match(letters[0]!.problems.join(), /token "\[redacted\]"/);
  });
});
