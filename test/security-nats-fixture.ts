// Shared by test/security-nats-*.test.ts: examples/nats-server.conf as nats-server runs it in those
// tests, the passwords of its users for this run (set in this process's environment on import, where
// the example reads them), and how a process is started as one of its users and expected to exit.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import type { BerthProcess } from "./berth-process.ts";
import { waitFor } from "./harness/wait.ts";

export const EXAMPLE = new URL("../examples/nats-server.conf", import.meta.url);
export const PREFIX = "berth"; // the example is written for the default prefix

/** Fresh passwords for this run, given to nats-server through its environment as the example expects. */
export const PASSWORDS = { node1: secret(), node2: secret(), handler: secret() };
export function secret(): string {
  return randomBytes(12).toString("hex");
}
// nats-server reads a variable's value as configuration: quoted, as the example says, so a password
// such as `7e21…` is not taken for a number.
process.env.BERTH_NODE1_PASSWORD = `"${PASSWORDS.node1}"`;
process.env.BERTH_NODE2_PASSWORD = `"${PASSWORDS.node2}"`;
process.env.BERTH_HANDLER_PASSWORD = `"${PASSWORDS.handler}"`;

/** The example as written, minus its store_dir (the harness gives each server its own with -sd), plus `extra`. */
export function exampleConfig(extra = ""): string {
  const text = readFileSync(EXAMPLE, "utf8");
  const withoutStore = text.replace(/^\s*store_dir:.*$/m, "");
  assert.notEqual(withoutStore, text, "examples/nats-server.conf sets store_dir");
  return `${withoutStore}\n${extra}`;
}

/** The exit of a process that must stop by itself: a deadline, so a silent wait fails the test. */
export const exitOf = (proc: BerthProcess) => waitFor(() => proc.exited, { what: "the process to exit by itself", timeoutMs: 15_000 });

export const as = (user: keyof typeof PASSWORDS) => ({ NATS_USER: user, NATS_PASSWORD: PASSWORDS[user] });
