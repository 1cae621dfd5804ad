// Where traced processes export their spans in the bench: an OTLP/HTTP endpoint in a process of its
// own (so its work is not counted as the measured process's), answering every export with an empty
// success and keeping nothing. Used by the throughput item and by bench/tracing-cost.ts.
import { spawn } from "node:child_process";

const SINK = `require("node:http").createServer((q, s) => { q.resume(); q.on("end", () => s.end("{}")); }).listen(0, "127.0.0.1", function () { console.log(this.address().port); });`;

/** Starts the sink; resolves with the URL to set as OTEL_EXPORTER_OTLP_ENDPOINT, and how to stop it. */
export async function spawnOtlpSink(): Promise<{ url: string; pid: number | undefined; stop: () => void }> {
  const sink = spawn(process.execPath, ["-e", SINK], { stdio: ["ignore", "pipe", "inherit"] });
  const stop = () => void sink.kill();
  const port = await new Promise<string>((resolve, reject) => {
    sink.stdout.once("data", (d: Buffer) => resolve(d.toString().trim()));
    sink.once("exit", (code) => reject(new Error(`the OTLP sink exited (${code}) before listening`)));
  }).catch((err: unknown) => {
    stop();
    throw err;
  });
  return { url: `http://127.0.0.1:${port}`, pid: sink.pid, stop };
}
