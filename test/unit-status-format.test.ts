// `berth status`'s table for people, from a report: waiting nodes (the summary line, one line each
// with since when and why, the WAITING column), and text censored before it is cut.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { duration, formatStatus } from "../cli/status-format.ts";
import type { NodeStatus, StatusReport } from "../cli/status-report.ts";
import { registerSecret } from "../common/redact.ts";

const AT = "2026-12-03T12:04:02.000Z";

function nodeOf(name: string, over: Partial<NodeStatus> = {}): NodeStatus {
  return { name, lastEvent: null, lastSnapshot: null, containers: 0, services: 0, drift: null, agent: "ok", waiting: null, ...over };
}

function reportOf(nodes: NodeStatus[], waiting?: StatusReport["waiting"]): StatusReport {
  return {
    prefix: "berth",
    at: AT,
    stream: { name: "BERTH_EVENTS", messages: 0, bytes: 0 },
    consumer: { name: "BERTH_handlers", pending: 0, ackPending: 0, redelivered: 0 },
    deadLetters: { count: 0, byReason: {}, last: [] },
    waiting: waiting ?? { count: nodes.filter((n) => n.waiting).length, nodes: nodes.filter((n) => n.waiting).map((n) => n.name) },
    nodes,
  };
}

const unreachable = "agent unreachable: connect ECONNREFUSED 10.0.0.3:8500";

describe("berth status table", () => {
  test("status format - waiting nodes: a summary by what they wait for, one line each with since when and why, the WAITING column", () => {
    const text = formatStatus(
      reportOf([
        nodeOf("node1"),
        nodeOf("node3", {
          waiting: { since: "2026-12-03T12:01:02.000Z", seconds: 180, for: "unreachable", reason: unreachable, requested: AT },
        }),
        nodeOf("node7", {
          waiting: {
            since: "2026-12-01T23:00:00.000Z",
            seconds: 133_442,
            for: "slow",
            reason: "agent slow: 8 calls in flight, the oldest for 2004 ms",
            requested: AT,
          },
        }),
      ]),
    );
    assert.match(text, /^nodes waiting for their agent: 2 of 3 \(unreachable 1, slow 1\)$/m);
    assert.match(text, /^ {2}node3 {2}waiting since 12:01:02 UTC \(3 min\): agent unreachable: connect ECONNREFUSED 10\.0\.0\.3:8500$/m);
    assert.match(text, /^ {2}node7 {2}waiting since 2026-12-01 23:00:00 UTC \(1 d 13 h\): agent slow: /m, "another day: the date too");
    assert.match(text, /^NODE .* WAITING +AGENT$/m);
    assert.match(text, /^node1 .* - +ok$/m);
    assert.match(text, /^node3 .* 3 min +ok$/m);
  });

  test("status format - nothing waiting, or the repair requests unreadable: said in the summary line", () => {
    assert.match(formatStatus(reportOf([nodeOf("node1")])), /^nodes waiting for their agent: 0 of 1$/m);
    const unknown = formatStatus(reportOf([nodeOf("node1")], { error: "cannot read the repair requests: stream not found" }));
    assert.match(unknown, /^nodes waiting for their agent: unknown \(cannot read the repair requests: stream not found\)$/m);
    assert.match(unknown, /^node1 .* \? +ok$/m, "WAITING is ? when it cannot be known");
  });

  test("status format - durations for people", () => {
    assert.deepEqual([0, 42, 60, 180, 3599, 3600, 7500, 86_400, 133_442].map(duration), [
      "0 s",
      "42 s",
      "1 min",
      "3 min",
      "59 min",
      "1 h 0 min",
      "2 h 5 min",
      "1 d 0 h",
      "1 d 13 h",
    ]);
  });

  test("status format - a secret is censored before a long agent answer is cut, so no part of it is printed", () => {
    const secret = "s3cr3t-agent-token-0123456789";
    registerSecret(secret);
    const agent = `${"x".repeat(50)} token ${secret}`; // cut at 80 as it is, the secret would be cut in two
    const text = formatStatus(reportOf([nodeOf("node1", { agent, services: null })]));
    assert.ok(!text.includes(secret.slice(0, 4)), text);
    assert.match(text, /token \[redacted\]/);
  });
});
