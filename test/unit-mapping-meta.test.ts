// Other SERVICE_* keys → Consul Meta, within Consul's limits, with berth's ownership pairs.
import { stamped } from "../mapping/fingerprint.ts";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { metaFor } from "../mapping/meta.ts";
import { keysForPort } from "../mapping/service-keys.ts";
import { ID_A, container } from "./builders.ts";

const OWNER = { berth_node: "node3", berth_container: ID_A };

function meta(env: Record<string, string>) {
  const warnings: string[] = [];
  const found = metaFor(keysForPort(container({ env }), 80), "node3", ID_A, (w) => void warnings.push(w));
  return { meta: found, warnings };
}

describe("mapping meta", () => {
  test("mapping meta - other keys become Meta, lowercased (SERVICE_REGION=us2 → region: us2)", () => {
    assert.deepEqual(meta({ SERVICE_REGION: "us2", SERVICE_80_team: "core" }), {
      meta: { region: "us2", team: "core", ...OWNER },
      warnings: [],
    });
  });

  test("mapping meta - keys berth reads itself are not Meta", () => {
    const env = {
      SERVICE_NAME: "a",
      SERVICE_TAGS: "t",
      SERVICE_ID: "i",
      SERVICE_IGNORE: "no",
      SERVICE_NETWORK: "n",
      SERVICE_CHECK_HTTP: "/",
      SERVICE_CHECK_INTERVAL: "5s",
    };
    assert.deepEqual(meta(env).meta, OWNER);
  });

  test("mapping meta - the ownership pairs are always there and cannot be overridden", () => {
    const found = meta({ SERVICE_BERTH_NODE: "other", SERVICE_berth_container: "x" });
    assert.deepEqual(found.meta, OWNER);
    assert.equal(found.warnings.length, 2);
  });

  test("mapping meta - pairs Consul would reject are dropped, each with a warning", () => {
    const found = meta({
      "SERVICE_com.example.team": "x",
      "SERVICE_CONSUL-version": "1",
      [`SERVICE_${"k".repeat(129)}`]: "long key",
      SERVICE_BIG: "v".repeat(513),
      SERVICE_WIDE: "é".repeat(257),
      SERVICE_FINE: "v".repeat(512),
    });
    assert.deepEqual(Object.keys(found.meta), ["fine", "berth_node", "berth_container"]);
    assert.equal(found.warnings.length, 5, found.warnings.join("\n"));
    assert.match(found.warnings.join("\n"), /Meta key "com\.example\.team" dropped: a Meta key may hold only letters, digits, _ and -/);
  });

  test("mapping meta - at most 64 pairs, berth's three included (the hash is stamped at apply): the first 61 keys by name are kept", () => {
    const env = Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`SERVICE_K${String(i).padStart(2, "0")}`, "v"]));
    const found = meta(env);
    assert.equal(Object.keys(found.meta).length, 63);
    assert.equal(Object.keys(stamped({ ID: "x", Name: "x", Meta: found.meta }).Meta ?? {}).length, 64);
    assert.equal(found.meta["k60"], "v");
    assert.equal(found.meta["k61"], undefined);
    assert.equal(found.warnings.length, 9);
  });

  test("mapping meta - a __proto__ key is an own pair, not a prototype", () => {
    const found = meta({ SERVICE___proto__: "x" }).meta;
    assert.equal(Object.getPrototypeOf(found), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(found, "__proto__")?.value, "x");
    assert.match(JSON.stringify(found), /^\{"__proto__":"x",/);
  });
});
