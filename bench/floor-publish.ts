// The FLOOR of the pipeline's emitter side, not product code: a bare JetStream stream, consumer and
// `await js.publish` with none of berth's code (no validation, no retry loop, no logging). It
// imports @nats-io directly, which the one-import rule allows for bench/floor-*.ts only. The
// stream and consumer have berth's settings (file storage, work queue, explicit ack) so the
// difference between floor and berth is berth's own work.
import { AckPolicy, RetentionPolicy, StorageType, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { registerCleanup } from "../test/harness/cleanup.ts";

export type FloorBus = {
  stream: string;
  consumer: string;
  publish(data: Uint8Array, msgId: string): Promise<void>;
  close(): Promise<void>;
};

/** Creates `<name>` (subjects `<name>.>`) and its durable consumer `<name>_workers`. */
export async function openFloorBus(natsUrl: string, name: string): Promise<FloorBus> {
  const nc = await connect({ servers: natsUrl, name: "bench-floor-publisher" });
  const close = async () => {
    unregister();
    await nc.drain();
  };
  // Closed by the harness cleanup too, should the phase fail before its own finally.
  const unregister = registerCleanup(`floor bus ${name}`, close);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name, subjects: [`${name}.>`], retention: RetentionPolicy.Workqueue, storage: StorageType.File });
  const consumer = `${name}_workers`;
  await jsm.consumers.add(name, { durable_name: consumer, ack_policy: AckPolicy.Explicit, max_ack_pending: 10_000 });
  const js = jetstream(nc);
  const subject = `${name}.floor.container.started`;
  return {
    stream: name,
    consumer,
    async publish(data, msgId) {
      await js.publish(subject, data, { msgID: msgId });
    },
    close,
  };
}
