// No forged routing (DESIGN.md §5): node names are validated wherever they enter — on the wire, in
// a subject, in the emitter's and the handler's configuration, in the agent directory — and hostile
// ones (test/unit-security-routing-fixture.ts) are refused everywhere; a BERTH_CONSUL_AGENT_TEMPLATE
// may put {node} only in the host, with no credentials, query or fragment.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { ConfigError } from "../common/config.ts";
import { loadEmitterConfig } from "../emitter/config.ts";
import { agentEntryFor, parseAgentMap } from "../consul/agents.ts";
import { loadHandlerConfig } from "../handler/config.ts";
import { SchemaError, decodeBerthEvent, isValidNodeName, parseSubject } from "../schemas/index.ts";
import { bytesOf, event } from "./builders.ts";
import { cleanupAll } from "./harness/cleanup.ts";
import { HOSTILE_NAMES } from "./unit-security-routing-fixture.ts";

describe("security: routing", () => {
  after(cleanupAll);

  test("routing - hostile node names are refused wherever a node name enters", () => {
    for (const name of HOSTILE_NAMES) {
      const what = JSON.stringify(name.slice(0, 40));
      assert.equal(isValidNodeName(name), false, what);
      // on the wire: the schema refuses the event (the handler dead-letters it as schema)
      const forged = event({ node: "node1" });
      forged.data.node.name = name;
      forged.source = `berth://${name}`;
      assert.throws(() => decodeBerthEvent(bytesOf(forged)), SchemaError, what);
      // in a subject
      assert.equal(parseSubject("berth", `berth.v1.${name}.container.started`), undefined, what);
      // in configuration: the emitter's node and the handler's map
      if (name !== "") assert.throws(() => loadEmitterConfig({ BERTH_NODE: name }), ConfigError, what); // empty: unset
      // (the map trims blanks around an entry, as around every list item: "node1\n" is node1)
      const keys = [...parseAgentMap(`${name}=http://127.0.0.1:8500`).agents.keys()];
      assert.ok(
        keys.every((k) => isValidNodeName(k) && k === name.trim()),
        `${what}: ${JSON.stringify(keys)}`,
      );
      // in the agent directory
      for (const template of ["http://{node}:8500", "https://{node}.consul.internal:8501/base"]) {
        assert.equal(agentEntryFor({ kind: "template", template }, name)?.url, undefined, what);
      }
    }
  });

  test("routing - hostile templates are refused: {node} only in the host, no credentials, query or fragment", () => {
    for (const template of [
      "http://agent:8500/{node}",
      "http://agent:{node}",
      "{node}://agent",
      "http://{node}@agent:8500",
      "http://agent:8500/?n={node}",
      "http://agent:8500/#{node}",
    ]) {
      assert.throws(() => loadHandlerConfig({ BERTH_CONSUL_AGENT_TEMPLATE: template }), ConfigError, template);
    }
    assert.doesNotThrow(() => loadHandlerConfig({ BERTH_CONSUL_AGENT_TEMPLATE: "https://{node}.consul.internal:8501/base" }));
  });
});
