// The tree's rooms (docs/development.md#layout): no two files import each other, directly or around
// a loop, and the mapping stays pure — it reaches no I/O, no NATS and no part of the worker.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";

const ROOT = path.resolve(import.meta.dirname, "..");
const ROOMS = ["bench", "bin", "cli", "common", "consul", "emitter", "handler", "mapping", "schemas", "test"];
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|mjs|js)$/.test(e.name))
    .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)));
}

/** Each file's imports: repository files by path, packages and Node's modules by name. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of ROOMS.flatMap(sourceFiles)) {
    const text = readFileSync(path.join(ROOT, file), "utf8");
    const targets = [...text.matchAll(IMPORT)].map((m) => m[1] ?? m[2]!);
    graph.set(
      file,
      targets.map((t) => (t.startsWith(".") ? path.relative(ROOT, path.resolve(ROOT, path.dirname(file), t)) : t)),
    );
  }
  return graph;
}

/** The import loops (strongly connected components of more than one file, or a file importing itself). */
function loops(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (file: string) => {
    index.set(file, index.size);
    low.set(file, index.get(file)!);
    stack.push(file);
    onStack.add(file);
    for (const next of graph.get(file) ?? []) {
      if (!graph.has(next)) continue;
      if (!index.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(file, Math.min(low.get(file)!, index.get(next)!));
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    if (component.length > 1 || graph.get(file)!.includes(file)) found.push(component.sort());
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return found;
}

/** Everything `file` reaches through its imports, itself excluded. */
function reached(graph: Map<string, string[]>, file: string): Set<string> {
  const seen = new Set<string>();
  const pending = [...(graph.get(file) ?? [])];
  while (pending.length > 0) {
    const next = pending.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    pending.push(...(graph.get(next) ?? []));
  }
  return seen;
}

describe("layout", () => {
  const graph = importGraph();

  it("finds the imports it checks (a parser that saw none would pass everything)", () => {
    assert.ok(graph.get("handler/apply.ts")?.includes("mapping/services-for.ts"));
    assert.ok(graph.get("bin/berth-main.ts")?.includes("handler/main.ts"), "dynamic imports are read too");
  });

  it("has no import loops", () => {
    assert.deepEqual(loops(graph), []);
  });

  it("keeps the mapping pure: no I/O, no NATS, nothing of the worker, the client or the processes", () => {
    // Type-only imports count too: the mapping's only outside types are Consul's wire shapes (consul/types.ts)
    // and the schemas' (whose validators run on ajv's runtime).
    const allowedOutside = /^(mapping\/|schemas\/|consul\/types\.ts$|ajv(\/|$)|node:crypto$|node:net$|json-schema-to-ts$)/;
    for (const file of [...graph.keys()].filter((f) => f.startsWith("mapping/"))) {
      const outside = [...reached(graph, file)].filter((t) => !allowedOutside.test(t));
      assert.deepEqual(outside, [], `${file} reaches ${outside.join(", ")}`);
    }
  });

  it("keeps the agent client free of the mapping and the worker", () => {
    for (const file of [...graph.keys()].filter((f) => f.startsWith("consul/"))) {
      const outside = [...reached(graph, file)].filter((t) => /^(mapping|handler|emitter|cli)\//.test(t));
      assert.deepEqual(outside, [], `${file} reaches ${outside.join(", ")}`);
    }
  });
});
