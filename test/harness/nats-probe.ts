// One request over the raw NATS text protocol (no client library), for harness self-tests:
// e.g. natsRequest(port, "$JS.API.STREAM.INFO.X", "") → the JetStream API's JSON reply.
import { connect } from "node:net";

export function natsRequest(port: number, subject: string, payload: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    const inbox = `_INBOX.harness.${process.pid}`;
    let buffer = Buffer.alloc(0);
    let sent = false;
    const finish = (error: Error | undefined, reply?: string) => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(reply ?? "");
    };
    const timer = setTimeout(() => finish(new Error(`no reply on ${subject} within ${timeoutMs} ms`)), timeoutMs);
    socket.on("error", (e) => finish(e));
    socket.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const text = buffer.toString("latin1");
      if (!sent && text.includes("\r\n")) {
        sent = true;
        const size = Buffer.byteLength(payload);
        socket.write(`CONNECT {"verbose":false,"pedantic":false}\r\nSUB ${inbox} 1\r\nPUB ${subject} ${inbox} ${size}\r\n${payload}\r\n`);
      }
      if (text.includes("\r\nPING\r\n") || text.startsWith("PING\r\n")) socket.write("PONG\r\n");
      const m = /MSG \S+ 1 (\d+)\r\n/.exec(text);
      if (m === null || m[1] === undefined) return;
      const start = m.index + m[0].length;
      const size = Number(m[1]);
      if (buffer.length >= start + size) finish(undefined, buffer.subarray(start, start + size).toString("utf8"));
    });
  });
}
