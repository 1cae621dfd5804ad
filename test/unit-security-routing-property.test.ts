// No forged routing (DESIGN.md §5), as fast-check properties: no node name, however hostile (the
// names of test/unit-security-routing-fixture.ts, their mixtures, binary and unicode junk, valid
// names with junk inserted), changes the scheme, credentials, port, path, query or fragment
// BERTH_CONSUL_AGENT_TEMPLATE gives; every valid name becomes exactly the host.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import fc from "fast-check";
import { agentEntryFor, type AgentDirectory } from "../consul/agents.ts";
import { isValidNodeName } from "../schemas/index.ts";
import { cleanupAll } from "./harness/cleanup.ts";
import { HOSTILE_NAMES } from "./unit-security-routing-fixture.ts";

describe("security: routing", () => {
  after(cleanupAll);

  // Property: whatever the name, the URL is undefined or the template's URL with only the host changed.
  const TEMPLATES = ["http://{node}:8500", "https://{node}.consul.internal:8501/base", "http://agent-{node}:8500"];
  /**
   * WHATWG URL reads an all-digit or 0x… host as an IPv4 number: the name still chooses only the
   * host (an address, or no URL at all: then the node has no agent).
   */
  const NUMERIC_HOST = /^(0x[0-9a-f]*|[0-9]+)$/i;

  function checkOnlyHostChanges(template: string, name: string): boolean {
    const url = agentEntryFor({ kind: "template", template } satisfies AgentDirectory, name)?.url;
    if (url === undefined) return false;
    assert.ok(isValidNodeName(name), `accepted an invalid name ${JSON.stringify(name)}`);
    const got = new URL(url);
    const want = new URL(template.replace("{node}", "placeholder"));
    for (const part of ["protocol", "username", "password", "port", "pathname", "search", "hash"] as const) {
      assert.equal(got[part], want[part], `${part} of ${url} (name ${JSON.stringify(name)})`);
    }
    const host = want.hostname.replace("placeholder", name.toLowerCase());
    if (template.startsWith("http://{node}:") && NUMERIC_HOST.test(name)) assert.match(got.hostname, /^\d+\.\d+\.\d+\.\d+$/);
    else assert.equal(got.hostname, host, `host of ${url}`);
    return true;
  }

  const hostileName = fc.oneof(
    fc.string({ unit: "binary", maxLength: 80 }),
    fc.string({ unit: "grapheme", maxLength: 80 }),
    fc
      .array(
        fc.constantFrom(
          ...HOSTILE_NAMES.filter((n) => n.length < 100),
          "node1",
          "a",
          "-",
          "_",
          ".",
          "/",
          ":",
          "@",
          "#",
          "?",
          "%",
          "\\",
          " ",
        ),
        { maxLength: 6 },
      )
      .map((p) => p.join("")),
    fc
      .stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/)
      .chain((valid) =>
        fc
          .tuple(fc.constant(valid), fc.string({ unit: "binary", maxLength: 4 }), fc.nat(64))
          .map(([v, junk, at]) => v.slice(0, at) + junk + v.slice(at)),
      ),
  );

  test("routing - property: no generated name changes anything but the host of the template's URL", () => {
    let accepted = 0;
    fc.assert(
      fc.property(hostileName, fc.constantFrom(...TEMPLATES), (name, template) => {
        if (checkOnlyHostChanges(template, name)) accepted++;
      }),
      { numRuns: 5000 },
    );
    // Some junk is harmless (a valid name with nothing inserted): the property was not vacuous.
    assert.ok(accepted > 0, "some generated names were accepted");
  });

  test("routing - property: every valid node name (but numbers that are no IPv4 address) is accepted and becomes exactly the host", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/), fc.constantFrom(...TEMPLATES), (name, template) => {
        const numeric = template.startsWith("http://{node}:") && NUMERIC_HOST.test(name);
        assert.ok(checkOnlyHostChanges(template, name) || numeric, JSON.stringify(name));
      }),
      { numRuns: 2000 },
    );
  });
});
