// The floors' HTTP: a PUT on a kept-alive node:http connection, as berth's agent client makes it
// (consul/client.ts), with none of berth's code.
import { Agent, request } from "node:http";

export type FloorHttp = { put(path: string, body?: string): Promise<void>; close(): void };

export function floorHttp(baseUrl: string, connections: number): FloorHttp {
  const url = new URL(baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  return {
    put: (path, body) =>
      new Promise((resolve, reject) => {
        const headers = body === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(body) };
        const req = request({ host: url.hostname, port: url.port, method: "PUT", path, agent, headers }, (res) => {
          res.resume();
          res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`agent answered ${res.statusCode} to ${path}`))));
        });
        req.on("error", reject);
        req.end(body);
      }),
    close: () => {
      agent.destroy();
    },
  };
}
