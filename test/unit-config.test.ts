import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { ENV_VALIDATORS_FILE, renderEnvValidators } from "../common/write-env-validators.ts";
import { loadEmitterConfig } from "../emitter/config.ts";
import { agentEntryFor, checkAgentTemplate, parseAgentMap } from "../consul/agents.ts";
import { agentDirectory, loadHandlerConfig } from "../handler/config.ts";
import { configProblems } from "./builders.ts";

describe("config", () => {
  test("config - the validators compiled from the declared variables are up to date (run `npm run schemas:write`)", async () => {
    assert.equal(readFileSync(ENV_VALIDATORS_FILE, "utf8"), await renderEnvValidators(), `${ENV_VALIDATORS_FILE} is stale`);
  });

  test("config - emitter defaults", () => {
    const c = loadEmitterConfig({});
    assert.equal(c.NATS_URL, "nats://127.0.0.1:4222");
    assert.equal(c.DOCKER_HOST, "unix:///var/run/docker.sock");
    assert.equal(c.BERTH_PREFIX, "berth");
    assert.equal(c.LOG_LEVEL, "info");
    assert.ok(Object.isFrozen(c));
  });

  test("config - every bad emitter value is listed at once", () => {
    const found = configProblems(() =>
      loadEmitterConfig({ NATS_URL: "http://x", BERTH_NODE: "a.b", LOG_LEVEL: "loud", BERTH_PREFIX: "Up", BERTH_HOST_IP: "nowhere" }),
    );
    assert.equal(found.length, 5, found.join("\n"));
    for (const key of ["NATS_URL", "BERTH_NODE", "LOG_LEVEL", "BERTH_PREFIX", "BERTH_HOST_IP"])
      assert.ok(
        found.some((p) => p.includes(key)),
        key,
      );
    assert.deepEqual(
      configProblems(() => loadEmitterConfig({ BERTH_HOST_IP: "nowhere" })),
      ['BERTH_HOST_IP must be an IP address, not "nowhere"'],
    );
  });

  test("config - handler agent map and concurrency", () => {
    const c = loadHandlerConfig({
      BERTH_CONSUL_AGENTS: "node1=http://127.0.0.1:8501, node3=https://10.0.0.3:8501/",
      BERTH_HANDLER_CONCURRENCY: "8",
    });
    assert.equal(c.BERTH_HANDLER_CONCURRENCY, 8);
    const dir = agentDirectory(c);
    assert.equal(agentEntryFor(dir, "node3")?.url, "https://10.0.0.3:8501");
    assert.equal(agentEntryFor(dir, "node2")?.url, undefined);
  });

  test("config - bad agent maps list every problem", () => {
    const { problems: found } = parseAgentMap("node1=ftp://x,bad node=http://y,node1=http://z,node2=http://u:p@h,node4");
    assert.equal(found.length, 4, found.join("\n"));
    assert.ok(configProblems(() => loadHandlerConfig({ BERTH_CONSUL_AGENTS: ",", BERTH_HANDLER_CONCURRENCY: "0" })).length === 2);
  });

  test("config - the agent template may use {node} only in the host", () => {
    assert.deepEqual(checkAgentTemplate("http://{node}:8500"), []);
    assert.deepEqual(checkAgentTemplate("http://{node}.consul.internal:8500/"), []);
    assert.equal(checkAgentTemplate("http://agent:8500/{node}").length, 1);
    assert.equal(checkAgentTemplate("{node}://x").length, 1);
    assert.equal(checkAgentTemplate("http://x:{node}").length, 1);
  });

  test("config - hostile node names never change the agent URL's scheme, port or path", () => {
    const dir = { kind: "template" as const, template: "http://{node}:8500" };
    for (const hostile of ["evil.com:80/x#", "a@b", "x/../y", "a:1", "node3?x=1", "..", "a b", ""]) {
      assert.equal(agentEntryFor(dir, hostile)?.url, undefined, hostile);
    }
    assert.equal(agentEntryFor(dir, "node-3_b")?.url, "http://node-3_b:8500");
  });
});
