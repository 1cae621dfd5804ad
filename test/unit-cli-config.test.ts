// Configuration mistakes named (look-alike variables, enums, LOG_LEVEL's case, a template quoted as
// written), what a wait logs, names Consul's DNS cannot serve, and each process's --help.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError } from "../common/config.ts";
import { editDistance, strangerVariables } from "../common/env-names.ts";
import { createLogger } from "../common/log.ts";
import { waitUntilUp } from "../common/waiting.ts";
import { processHelp } from "../cli/process-help.ts";
import { checkAgentTemplate } from "../consul/agents.ts";
import { emitterEnv, loadEmitterConfig } from "../emitter/config.ts";
import { dockerHint } from "../emitter/node-name.ts";
import { agentDirectory, describeAgents, handlerEnv, loadHandlerConfig } from "../handler/config.ts";
import { dnsNameWarning } from "../mapping/dns-names.ts";
import { servicesFor } from "../mapping/services-for.ts";
import { event, settings, configProblems } from "./builders.ts";

/** A logger whose lines are kept, parsed. */
function recordingLog() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger("test", "debug", {}, "json", { write: (l: string) => lines.push(JSON.parse(l) as Record<string, unknown>) });
  return { log, lines };
}

describe("configuration mistakes named", () => {
  test("config - a variable one letter off berth's is warned about with the closest name berth reads", () => {
    const found = strangerVariables({
      BERTH_CONSUL_AGENT: "node1=http://10.0.0.1:8500",
      NATS_ULR: "nats://x:4222",
      BERTH_SOMETHING_ELSE_ENTIRELY: "1",
      CONSUL_HTTP_ADDR: "http://127.0.0.1:8500",
      // Other tools' variables in the namespaces berth shares: no near miss, not berth's business.
      DOCKER_BUILDKIT: "1",
      DOCKER_CONFIG: "/root/.docker",
      NATS_URL: "nats://127.0.0.1:4222",
      PATH: "/usr/bin",
    });
    assert.deepEqual(
      found.map((f) => f.text),
      [
        "BERTH_CONSUL_AGENT is not a variable berth reads; did you mean BERTH_CONSUL_AGENTS?",
        "BERTH_SOMETHING_ELSE_ENTIRELY is not a variable berth reads",
        "CONSUL_HTTP_ADDR is not a variable berth reads; did you mean BERTH_CONSUL_AGENTS or BERTH_CONSUL_AGENT_TEMPLATE?",
        "NATS_ULR is not a variable berth reads; did you mean NATS_URL?",
      ],
    );
    assert.equal(editDistance("NATS_ULR", "NATS_URL"), 1, "a swap of two letters is one edit");
    assert.deepEqual(strangerVariables({ BERTH_NODE: "n1", BERTH_CONSUL_AGENTS: "x", LOG_LEVEL: "info", BERTH_TAGS: "a" }), []);
  });

  test("config - an enum's problem lists the allowed values and quotes the value written; LOG_LEVEL in any case", () => {
    assert.deepEqual(
      configProblems(() => loadEmitterConfig({ LOG_LEVEL: "verbose" })),
      ['LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, not "verbose"'],
    );
    assert.equal(loadEmitterConfig({ LOG_LEVEL: "DEBUG" }).LOG_LEVEL, "debug");
    assert.equal(loadHandlerConfig({ LOG_FORMAT: "Json", BERTH_DEREGISTER: "On-Success" }).BERTH_DEREGISTER, "on-success");
    assert.deepEqual(
      configProblems(() => loadHandlerConfig({ BERTH_HANDLER_CONCURRENCY: "lots" })),
      ['BERTH_HANDLER_CONCURRENCY must be integer, not "lots"'],
    );
  });

  test("config - a bad agent template is quoted as written, with the URL it made", () => {
    assert.deepEqual(checkAgentTemplate("http://127.0.0.1:{node}"), [
      'BERTH_CONSUL_AGENT_TEMPLATE is not a URL: "http://127.0.0.1:{node}" (with {node} = node-1: "http://127.0.0.1:node-1")',
    ]);
    assert.deepEqual(checkAgentTemplate("http://agent:8500/{node}"), [
      'BERTH_CONSUL_AGENT_TEMPLATE may use {node} only in the host name, not "http://agent:8500/{node}"',
    ]);
  });

  test("config - the handler's started line names each node's agent, or the template as written", () => {
    const map = loadHandlerConfig({ BERTH_CONSUL_AGENTS: "node1=http://10.0.0.1:8500,node2=https://10.0.0.2:8501/" });
    assert.deepEqual(describeAgents(agentDirectory(map)), {
      agents_from: "BERTH_CONSUL_AGENTS",
      agents: { node1: "http://10.0.0.1:8500", node2: "https://10.0.0.2:8501" },
    });
    assert.deepEqual(describeAgents(agentDirectory(loadHandlerConfig({}))), {
      agents_from: "BERTH_CONSUL_AGENT_TEMPLATE",
      agent_template: "http://{node}:8500",
    });
  });
});

describe("waiting", () => {
  test("waiting - said once with the reason and hint, again for a new reason, and when it is over", async () => {
    const { log, lines } = recordingLog();
    let calls = 0;
    const reasons = ["connect ENOENT /var/run/docker.sock", "connect EACCES /var/run/docker.sock"];
    const value = await waitUntilUp(
      () => {
        calls++;
        if (calls <= 40) return Promise.reject(new Error(reasons[calls <= 20 ? 0 : 1]));
        return Promise.resolve("engine");
      },
      { log, signal: new AbortController().signal, what: "Docker", hint: (r) => `hint for ${r}`, firstRetryMs: 1, maxRetryMs: 1 },
    );
    assert.equal(value, "engine");
    assert.equal(calls, 41);
    assert.deepEqual(
      lines.map((l) => [l["level"], l["msg"], l["reason"], l["hint"]]),
      [
        ["warn", "waiting for Docker", reasons[0], `hint for ${reasons[0]}`],
        ["warn", "waiting for Docker", reasons[1], `hint for ${reasons[1]}`],
        ["info", "Docker answered: waiting is over", undefined, undefined],
      ],
    );
  });

  test("waiting - a stop ends the wait at once with the signal's reason; a fatal failure is thrown at once", async () => {
    const { log } = recordingLog();
    const controller = new AbortController();
    const never = new Promise<string>(() => undefined);
    const waiting = waitUntilUp(() => never, { log, signal: controller.signal, what: "NATS", hint: () => "" });
    controller.abort("SIGTERM");
    await assert.rejects(waiting, (err) => err === "SIGTERM");
    let calls = 0;
    const fatal = waitUntilUp(
      () => {
        calls++;
        return Promise.reject(new ConfigError(["refused"]));
      },
      { log, signal: new AbortController().signal, what: "NATS", hint: () => "", fatal: (e) => e instanceof ConfigError },
    );
    await assert.rejects(fatal, ConfigError);
    assert.equal(calls, 1);
  });

  test("waiting - the hint for a Docker socket names what to do", () => {
    assert.match(dockerHint("connect ENOENT /var/run/docker.sock", "unix:///var/run/docker.sock"), /start dockerd, or set DOCKER_HOST/);
    assert.match(dockerHint("connect EACCES /nonexistent.sock", "unix:///nonexistent.sock"), /run it in the socket's group/);
    assert.match(dockerHint("connect ETIMEDOUT 10.0.0.9:2376", "tcp://10.0.0.9:2376"), /DOCKER_HOST=tcp:\/\/10\.0\.0\.9:2376/);
  });
});

describe("names Consul's DNS cannot serve", () => {
  test("dns names - Consul's agent's rule and words: invalid characters, more than 63 bytes", () => {
    assert.equal(dnsNameWarning("web-2"), undefined);
    assert.equal(dnsNameWarning("a".repeat(63)), undefined);
    assert.equal(
      dnsNameWarning("my web ☃ café"),
      'service name "my web ☃ café" will not be discoverable via DNS due to invalid characters. Valid characters include all alpha-numerics and dashes.',
    );
    assert.match(dnsNameWarning("my_web") ?? "", /invalid characters/);
    assert.match(dnsNameWarning("a".repeat(64)) ?? "", /due to it being too long\. Valid lengths are between 1 and 63 bytes\.$/);
    assert.ok((dnsNameWarning("x".repeat(500)) ?? "").length < 250, "a long name is quoted cut");
  });

  test("dns names - the mapping returns the warning with its services (the handler logs it, explain prints it)", () => {
    const mapped = servicesFor(event({ container: { env: { SERVICE_NAME: "my web ☃ café" } } }), settings());
    assert.equal(mapped.services[0]?.Name, "my web ☃ café", "registered all the same, as Consul does");
    assert.deepEqual(
      mapped.warnings.filter((w) => w.includes("DNS")),
      [
        'service name "my web ☃ café" will not be discoverable via DNS due to invalid characters. Valid characters include all alpha-numerics and dashes.',
      ],
    );
  });
});

describe("process help", () => {
  test("help - berth emitter|handler --help lists every variable the process reads, with its description and default", () => {
    for (const [kind, schema] of [
      ["emitter", emitterEnv],
      ["handler", handlerEnv],
    ] as const) {
      const text = processHelp(kind);
      assert.match(text, new RegExp(`^usage: berth ${kind}\\n`));
      for (const [name, property] of Object.entries(schema.properties) as [string, { description: string }][]) {
        assert.ok(text.includes(`  ${name}\n      ${property.description}`), `${kind} --help describes ${name}`);
      }
    }
    assert.match(processHelp("handler"), /LOG_LEVEL\n.*one of fatal, error, warn, info, debug, trace, silent; default: info/);
  });
});
