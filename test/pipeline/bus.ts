// The test's own connection to the pipeline's NATS: publishing events as the emitter does, and
// reading the dead letters (from the oldest, nothing consumed).
import { connectBus, ensureJetStream, publishDurable, type Bus, type NatsSettings } from "../../common/nats/index.ts";
import { parseDeadLetter, subjectFor, type BerthEvent, type DeadLetter } from "../../schemas/index.ts";
import { bytesOf } from "../builders.ts";
import { readDeadLetters } from "../dead-letters.ts";
import { registerCleanup } from "../harness/cleanup.ts";

/** A dead letter as read back, with the subject it was published on (`<prefix>.v1.dlq.<reason>`). */
export type ReadDeadLetter = DeadLetter & { dlqSubject: string };

/** Connects to `env`'s NATS as `name`, drained by cleanupAll (or by the returned stop). */
export async function connectTestBus(env: NatsSettings, name: string): Promise<{ bus: Bus; stop: () => Promise<void> }> {
  const bus = await connectBus(env, name);
  let drained: Promise<void> | undefined;
  const stop = () => (drained ??= bus.drain().catch(() => undefined));
  const unregister = registerCleanup(`${name} bus`, stop);
  return {
    bus,
    stop: async () => {
      unregister();
      await stop();
    },
  };
}

export type TestBus = {
  bus: Bus;
  /** Publishes an event on its subject with its ID as Nats-Msg-Id, as the emitter does. */
  publish: (event: BerthEvent) => ReturnType<typeof publishDurable>;
  /** Up to `limit` dead letters, oldest first. */
  deadLetters: (limit?: number) => Promise<ReadDeadLetter[]>;
};

export async function testBus(env: NatsSettings, prefix: string, onStop: (stop: () => Promise<void>) => void): Promise<TestBus> {
  const { bus, stop } = await connectTestBus(env, `${prefix}-test`);
  onStop(stop);
  await ensureJetStream(bus);
  return {
    bus,
    publish: (event) => publishDurable(bus, subjectFor(prefix, event), bytesOf(event), event.id),
    async deadLetters(limit = 1000) {
      return (await readDeadLetters(bus, limit)).map((m) => ({
        ...parseDeadLetter(JSON.parse(new TextDecoder().decode(m.data))),
        dlqSubject: m.subject,
      }));
    },
  };
}
