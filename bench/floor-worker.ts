// The FLOOR of the pipeline's handler side, not product code: a bare JetStream pull → HTTP PUT → ack
// worker with none of berth's code in it. The rule that only common/nats/sdk.ts imports @nats-io is
// for product code; a benchmark floor imports it directly (bench/floor-*.ts only) so that it
// measures what the library and the machine allow.
//
// Run as a child process: node bench/floor-worker.ts
// env: NATS_URL, FLOOR_STREAM, FLOOR_CONSUMER, AGENT_URL, CONCURRENCY (messages in flight, like
// BERTH_HANDLER_CONCURRENCY); FLOOR_TIMED=1 (the quiet host): each registration's Meta also says
// when the publisher began (floor_sent_ms) and when the message reached this worker
// (floor_consumed_ms), monotonic ms, for the hop alone. A stopped event deregisters. Prints a JSON line with msg "floor worker ready" once consuming (read
// as a log line by test/berth-process.ts); SIGTERM stops it.
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { SENT_HEADER, monotonicMs } from "./floor-clock.ts";
import { floorHttp } from "./floor-http.ts";

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`floor-worker: ${name} is not set`);
  return value;
};

const nc = await connect({ servers: env("NATS_URL"), name: "bench-floor-worker" });
const js = jetstream(nc);
const concurrency = Number(env("CONCURRENCY"));
const timed = process.env.FLOOR_TIMED === "1";
const http = floorHttp(env("AGENT_URL"), 16);
const consumer = await js.consumers.get(env("FLOOR_STREAM"), env("FLOOR_CONSUMER"));
const messages = await consumer.consume({ max_messages: concurrency * 2 });
process.on("SIGTERM", () => messages.stop());
process.stdout.write(`${JSON.stringify({ level: "info", msg: "floor worker ready" })}\n`);

type Timing = { floor_sent_ms: string; floor_consumed_ms: string };

/** The same registration a real handler would send for a one-port container, built by hand; a stop removes it. */
async function put(data: Uint8Array, timing: Timing | undefined): Promise<void> {
  const event = JSON.parse(new TextDecoder().decode(data)) as { type: string; subject: string; data: { node: { name: string } } };
  const id = `floor:${event.subject.slice(0, 12)}:8080`;
  if (event.type === "io.berth.container.stopped") return http.put(`/v1/agent/service/deregister/${id}`);
  const body = JSON.stringify({
    ID: id,
    Name: "floor",
    Port: 8080,
    Meta: { berth_node: event.data.node.name, berth_container: event.subject, ...timing },
  });
  await http.put("/v1/agent/service/register", body);
}

const inFlight = new Set<Promise<void>>();
for await (const m of messages) {
  const consumed = timed ? monotonicMs() : 0; // first: the hop ends as the message is in hand
  const sent = timed ? m.headers?.get(SENT_HEADER) : undefined;
  const timing = sent ? { floor_sent_ms: sent, floor_consumed_ms: String(consumed) } : undefined;
  const work = put(m.data, timing).then(
    () => m.ack(),
    (err: unknown) => {
      process.stderr.write(`floor-worker: ${(err as Error).message}\n`);
      m.nak(500);
    },
  );
  const tracked = work.finally(() => inFlight.delete(tracked));
  inFlight.add(tracked);
  if (inFlight.size >= concurrency) await Promise.race(inFlight);
}
await Promise.all(inFlight);
await nc.drain();
http.close();
