// An agent that refuses every call with 403 and quotes the token it was sent (a proxy might):
// the place a secret would leak back into berth's errors, logs and dead letters.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { registerCleanup } from "./harness/cleanup.ts";

/** Starts the agent on loopback; it is closed by cleanupAll. Returns its URL. */
export async function startQuotingAgent(): Promise<string> {
  const server = createServer((req, res) => {
    res.writeHead(403).end(`Permission denied: token "${String(req.headers["x-consul-token"])}" lacks service:write`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  registerCleanup("quoting agent", () => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
