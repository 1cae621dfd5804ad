// The FLOOR of the emitter's side on the quiet host, not product code: a process of its own, like
// the emitter, that sleeps until it is woken (SIGUSR2 here, Docker's event there) and then does a
// bare `await js.publish` of bytes made before anything is timed. It imports @nats-io directly,
// which the one-import rule allows for bench/floor-*.ts only.
//
// Run as a child process: node bench/floor-publisher.ts
// env: NATS_URL, FLOOR_EVENTS (a JSON file: [{subject, msgId, data}], published in that order, one
// per SIGUSR2). Each publish carries the moment it began (SENT_HEADER, monotonic ms), so the
// workers can tell the hop alone. Prints a JSON line with msg "floor publisher ready" once connected.
import { readFileSync } from "node:fs";
import { jetstream } from "@nats-io/jetstream";
import { connect, headers } from "@nats-io/transport-node";
import { SENT_HEADER, monotonicMs } from "./floor-clock.ts";

export type FloorEvent = { subject: string; msgId: string; data: string };

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`floor-publisher: ${name} is not set`);
  return value;
};

const encoder = new TextEncoder();
const events = (JSON.parse(readFileSync(env("FLOOR_EVENTS"), "utf8")) as FloorEvent[]).map((e) => ({
  ...e,
  bytes: encoder.encode(e.data),
}));
const nc = await connect({ servers: env("NATS_URL"), name: "bench-floor-publisher" });
const js = jetstream(nc);

let next = 0;
let queue = Promise.resolve();
process.on("SIGUSR2", () => {
  const event = events[next++];
  if (!event) return void process.stderr.write("floor-publisher: woken with no event left\n");
  queue = queue
    .then(async () => {
      const h = headers();
      h.set(SENT_HEADER, String(monotonicMs()));
      await js.publish(event.subject, event.bytes, { msgID: event.msgId, headers: h });
    })
    .catch((err: unknown) => void process.stderr.write(`floor-publisher: ${(err as Error).message}\n`));
});
process.on("SIGTERM", () => void nc.drain().finally(() => process.exit(0)));
process.stdout.write(`${JSON.stringify({ level: "info", msg: "floor publisher ready" })}\n`);
