// Where traced handlers export their spans in the bench: an OTLP/HTTP endpoint in a process of its
// own (so its work is not the fast agent's, in the bench's process), answering every export with an
// empty success and keeping nothing. Stopped with the run, also on failure (harness cleanup).
import { spawn } from "node:child_process";
import { registerCleanup } from "../test/harness/cleanup.ts";

const SINK = `require("node:http").createServer((q, s) => { q.resume(); q.on("end", () => s.end("{}")); }).listen(0, "127.0.0.1", function () { console.log(this.address().port); });`;

/** Starts the sink; resolves with the URL to set as OTEL_EXPORTER_OTLP_ENDPOINT. */
export async function startOtlpSink(): Promise<string> {
  const sink = spawn(process.execPath, ["-e", SINK], { stdio: ["ignore", "pipe", "inherit"] });
  const stop = () => {
    sink.kill();
    return Promise.resolve();
  };
  registerCleanup(`OTLP sink (pid ${sink.pid})`, stop, () => sink.kill());
  const port = await new Promise<string>((resolve, reject) => {
    sink.stdout.once("data", (d: Buffer) => resolve(d.toString().trim()));
    sink.once("exit", (code) => reject(new Error(`the OTLP sink exited (${code}) before listening`)));
  });
  return `http://127.0.0.1:${port}`;
}
