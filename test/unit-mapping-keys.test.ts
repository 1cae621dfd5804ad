// The SERVICE_* grammar (registrator.md §2.1), list values (§2.4) and booleans.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isOn, keysForPort, splitList, type PortKeys } from "../mapping/service-keys.ts";
import { container } from "./builders.ts";

const keys = (env: Record<string, string>, labels: Record<string, string> = {}, port = 80): Record<string, string> =>
  Object.fromEntries([...keysForPort(container({ env, labels }), port)].map(([k, v]) => [k, v.value]));

describe("mapping keys", () => {
  test("mapping keys - registrator §2.1 examples", () => {
    const cases: [string, Record<string, string>, Record<string, string>, Record<string, string>][] = [
      ["only SERVICE_ (case-sensitive) counts", { service_name: "x", SERVICE_NAME: "y" }, {}, { name: "y" }],
      ["the key is lowercased", { SERVICE_Region: "us2" }, {}, { region: "us2" }],
      ["another port's key is dropped", { SERVICE_443_NAME: "tls" }, {}, {}],
      ["the port is compared as text", { SERVICE_080_NAME: "x" }, {}, {}],
      ["SERVICE_80=x is the generic key 80", { SERVICE_80: "x" }, {}, { "80": "x" }],
      ["a per-port key beats a generic key, env before", { SERVICE_80_NAME: "p", SERVICE_NAME: "g" }, {}, { name: "p" }],
      ["a per-port key beats a generic key, env after", { SERVICE_NAME: "g", SERVICE_80_NAME: "p" }, {}, { name: "p" }],
      ["a per-port env key beats a generic label", { SERVICE_80_NAME: "p" }, { SERVICE_NAME: "g" }, { name: "p" }],
      ["a label beats an env variable", { SERVICE_NAME: "env" }, { SERVICE_NAME: "label" }, { name: "label" }],
      ["a per-port label beats a per-port env variable", { SERVICE_80_NAME: "env" }, { SERVICE_80_NAME: "label" }, { name: "label" }],
      ["an empty value counts as not given", { SERVICE_NAME: "", SERVICE_IGNORE: "" }, {}, {}],
      ["labels outside SERVICE_ are not keys", {}, { "com.docker.compose.service": "web" }, {}],
    ];
    for (const [what, env, labels, expected] of cases) assert.deepEqual(keys(env, labels), expected, what);
  });

  test("mapping keys - per-port keys are flagged", () => {
    const found = keysForPort(container({ env: { SERVICE_80_NAME: "a", SERVICE_TAGS: "t" } }), 80);
    assert.deepEqual([found.get("name")?.perPort, found.get("tags")?.perPort], [true, false]);
  });

  test("mapping keys - tag lists (§2.4 examples, order kept)", () => {
    for (const [text, expected] of [
      ["a,b,c", ["a", "b", "c"]],
      ["master,backups", ["master", "backups"]],
      ["a, b,,c", ["a", "b", "c"]],
      ["a\\,b,c", ["a,b", "c"]],
      ["x\\y", ["x\\y"]],
      ["", []],
    ] as const) {
      assert.deepEqual(splitList(text), expected, text);
    }
  });

  test("mapping keys - booleans: true/yes/on/1 and false/no/off/0, anything else taken as true with a warning", () => {
    const flag = (value: string) => {
      const warnings: string[] = [];
      const map: PortKeys = new Map([["ignore", { value, perPort: false, scope: "generic" }]]);
      return [isOn(map, "ignore", (w) => void warnings.push(w)), warnings.length];
    };
    for (const v of ["true", "TRUE", "yes", "on", "1", " y "]) assert.deepEqual(flag(v), [true, 0], v);
    for (const v of ["false", "False", "no", "off", "0"]) assert.deepEqual(flag(v), [false, 0], v);
    assert.deepEqual(flag("please"), [true, 1]);
    assert.equal(
      isOn(new Map(), "ignore", () => assert.fail("no warning")),
      false,
    );
  });
});
