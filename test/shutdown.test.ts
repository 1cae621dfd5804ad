// SIGTERM on a handler finishes what is in flight: an agent call under way completes, the outcome
// is logged and acked, and the process exits 0.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, test } from "node:test";
import { event } from "./builders.ts";
import { cleanupAll, registerCleanup } from "./harness/cleanup.ts";
import { waitFor } from "./harness/wait.ts";
import { startPipeline } from "./pipeline/index.ts";

after(cleanupAll);

/** An agent whose register answers only when the test says so. */
async function slowAgent() {
  const registers: string[] = [];
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const server = createServer((req, res) => {
    if (req.url?.startsWith("/v1/agent/services")) return void res.setHeader("content-type", "application/json").end("{}");
    registers.push(req.url ?? "");
    void released.then(() => res.end());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  registerCleanup("slow agent", () => new Promise((r) => server.close(() => r())));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, registers, release };
}

test("shutdown - SIGTERM during an agent call: the call completes, is acked and logged, exit 0", async (t) => {
  const agent = await slowAgent();
  const p = await startPipeline({ prefix: "shut", nodes: [{ name: "node1", agent: { url: agent.url } }], bus: true });
  if (!p.ready(t)) return;
  const handler = p.handlers[0]!;
  const e = event({ node: "node1" });
  await p.publish(e);
  await waitFor(() => agent.registers.length === 1, { what: "the register call under way" });
  const stopping = handler.stop("SIGTERM");
  await handler.waitForLog((l) => l.msg === "draining" && l["signal"] === "SIGTERM", "the handler draining, in its own log format");
  agent.release();
  const exit = await stopping;
  assert.equal(exit.code, 0);
  assert.ok(
    handler.logs.some((l) => l.msg === "applied" && l["container"] === e.subject),
    "the outcome was logged before exit",
  );
});

test("shutdown - SIGTERM with NATS gone: the handler stops by itself, exit 0, before a process manager's grace runs out", async (t) => {
  const p = await startPipeline({ prefix: "shutnats", nodes: [{ name: "node1" }], bus: true });
  if (!p.ready(t)) return;
  const handler = p.handlers[0]!;
  await p.nats!.stop();
  await handler.waitForLog((l) => l.msg === "NATS disconnected: reconnecting", "the handler seeing NATS gone");
  // The harness kills a process still there after 10 s (signal SIGKILL), as Docker does at its default grace.
  const exit = await handler.stop("SIGTERM");
  assert.deepEqual(exit, { code: 0, signal: null }, [...handler.logs.map((l) => l.msg), ...handler.stderr].join(" | "));
  assert.ok(
    handler.logs.some((l) => l.msg === "stopped"),
    "it logged its stop",
  );
});
