// berth's use of NATS JetStream, one concern a file: sdk (the only import of the client),
// connect, errors, settings, setup, publish, pull, state-bucket, status.
export { connectBus, watchConnection } from "./connect.ts";
export type { Bus, NatsSettings } from "./connect.ts";
export { NatsPermissionError, NoLeaderError, isTransient } from "./errors.ts";
export { DEFAULT_STREAM_SETTINGS, STREAM_ENV, streamSettings } from "./settings.ts";
export type { StreamSettings } from "./settings.ts";
export { REPAIR_ACK_WAIT_SECONDS, ensureJetStream } from "./setup.ts";
export type { SetupNote } from "./setup.ts";
export { publishDurable, publishStored } from "./publish.ts";
export type { PublishResult } from "./publish.ts";
export { PULL_EXPIRES_MS, PULL_HEARTBEAT_MS, pullMessages } from "./pull.ts";
export type { InboundMessage } from "./pull.ts";
export { entriesOf, openStateBucket } from "./state-bucket.ts";
export type { StateBucket, StateEntry } from "./state-bucket.ts";
export { consumerLag, lastDeadLetters, streamCounts, waitingNodes } from "./status.ts";
export type { ConsumerLag, StoredMessage, StreamCounts, WaitingNode } from "./status.ts";
