// A start that has just happened: its registration leaves for the agent before the handler starts
// recording its state. Node writes a request on a kept-alive connection in a nextTick, after every
// promise continuation queued before it; the record's work queued ahead of it held the registration
// back (npm run bench, the quiet host). The real agent client, over loopback, with the socket's
// writes watched.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { agentClient, type AgentClient } from "../consul/client.ts";
import { handleMessage } from "../handler/consume.ts";
import { subjectFor } from "../schemas/index.ts";
import { bytesOf, event, handlerDeps, memoryBucket, message } from "./builders.ts";

describe("apply early", () => {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.end(req.method === "GET" ? "{}" : ""));
  });
  let agent: AgentClient;
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    agent = agentClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  after(async () => {
    await agent.close();
    server.close();
  });

  test("apply early - a start of now: the registration is on the socket before the state's create is asked for", async () => {
    const bucket = memoryBucket();
    const written: string[] = [];
    // eslint-disable-next-line @typescript-eslint/unbound-method -- put back as it was, called with each socket as `this`
    const write = Socket.prototype.write;
    const watched = function (this: Socket, ...args: Parameters<Socket["write"]>) {
      written.push(String(args[0]).slice(0, 40));
      return write.apply(this, args);
    } as Socket["write"];
    const createFresh = bucket.createFresh.bind(bucket);
    const seenAtCreate: boolean[] = [];
    bucket.createFresh = (key, value) => {
      seenAtCreate.push(written.some((w) => w.startsWith("PUT /v1/agent/service/register")));
      return createFresh(key, value);
    };
    const { deps } = handlerDeps(agent, { bucket });
    const send = async (id: string) => {
      const now = BigInt(Date.now()) * 1_000_000n;
      const e = event({ timeNano: now, container: { id: id.repeat(64), name: `svc-${id}` } });
      const { msg, settled } = message(subjectFor("berth", e), bytesOf(e));
      await handleMessage(deps, msg);
      assert.deepEqual(settled, { acked: 1, naks: [] });
    };
    await send("a"); // opens the connection the next start finds kept alive
    Socket.prototype.write = watched;
    try {
      written.length = 0;
      seenAtCreate.length = 0;
      await send("b");
    } finally {
      Socket.prototype.write = write;
    }
    assert.deepEqual(seenAtCreate, [true], `written before the create: ${JSON.stringify(written)}`);
  });
});
