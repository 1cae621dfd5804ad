// The documentation's relative links lead somewhere: every file a link names exists, and every
// `#anchor` names a heading of its target (GitHub's slugs). README stays short enough to read.
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { test } from "node:test";

const ROOT = join(import.meta.dirname, "..");
const DOCS = ["README.md", ...readdirSync(join(ROOT, "docs")).map((f) => `docs/${f}`), "bench/README.md"].filter((f) => f.endsWith(".md"));

/** The file's lines outside fenced code blocks, which hold neither links nor headings. */
function proseLines(text: string): string[] {
  const lines: string[] = [];
  let fenced = false;
  for (const line of text.split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    else if (!fenced) lines.push(line);
  }
  return lines;
}

/** GitHub's anchor of a heading: lowercase, punctuation other than `-` and `_` removed, spaces → `-`. */
function slug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** The anchors of a Markdown file; a repeated heading gets `-1`, `-2` … as on GitHub. */
function anchorsOf(file: string): Set<string> {
  const anchors = new Set<string>();
  for (const line of proseLines(readFileSync(file, "utf8"))) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const base = slug(heading);
    let anchor = base;
    for (let n = 1; anchors.has(anchor); n++) anchor = `${base}-${n}`;
    anchors.add(anchor);
  }
  return anchors;
}

/** Every link target that is not a URL: `[text](target)`, `![alt](target)` and `[ref]: target`. */
function relativeLinks(text: string): string[] {
  const targets: string[] = [];
  for (const line of proseLines(text)) {
    const prose = line.replace(/`[^`]*`/g, "");
    for (const m of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) targets.push(m[1]!);
    const ref = /^\s*\[[^\]]+\]:\s+<?([^\s>]+)/.exec(prose)?.[1];
    if (ref !== undefined) targets.push(ref);
  }
  return targets.filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
}

/** What is wrong with each relative link of `doc` (a path from the repository's root). */
function brokenLinks(doc: string): string[] {
  const problems: string[] = [];
  for (const target of relativeLinks(readFileSync(join(ROOT, doc), "utf8"))) {
    const [path = "", anchor] = target.split("#", 2);
    const file = path === "" ? join(ROOT, doc) : join(ROOT, dirname(doc), decodeURIComponent(path));
    if (!existsSync(file)) problems.push(`${doc}: ${target}: no such file ${relative(ROOT, file)}`);
    else if (anchor !== undefined && !anchorsOf(file).has(decodeURIComponent(anchor)))
      problems.push(`${doc}: ${target}: no heading gives #${anchor} in ${relative(ROOT, file)}`);
  }
  return problems;
}

test("docs - a heading's anchor follows GitHub's slug rules", () => {
  assert.equal(slug("Streams and limits"), "streams-and-limits");
  assert.equal(slug("`berth status`"), "berth-status");
  assert.equal(slug("Before a commit: lint, CI & the rest"), "before-a-commit-lint-ci--the-rest");
  assert.equal(slug("BERTH_TAGS and -x"), "berth_tags-and--x");
});

test("docs - every relative link in README.md, docs/ and bench/README.md leads to a file and heading that exist", () => {
  assert.ok(DOCS.length >= 3, `found ${DOCS.join(", ")}`);
  assert.deepEqual(DOCS.flatMap(brokenLinks), []);
});

test("docs - README.md is at most 200 lines", () => {
  const lines = readFileSync(join(ROOT, "README.md"), "utf8").trimEnd().split("\n").length;
  assert.ok(lines <= 200, `README.md has ${lines} lines; move the detail into docs/`);
});
