// The only file that imports the NATS client (@nats-io/*): the part of it berth uses, by name.
export {
  AuthorizationError,
  InvalidArgumentError,
  NoRespondersError,
  PermissionViolationError,
  TimeoutError,
  connect,
  credsAuthenticator,
  nanos,
  nkeyAuthenticator,
} from "@nats-io/transport-node";
export type { ConnectionOptions, NatsConnection } from "@nats-io/transport-node";
export {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
} from "@nats-io/jetstream";
export type { ConsumerConfig, JetStreamClient, JetStreamManager, JsMsg, StreamConfig } from "@nats-io/jetstream";
export { Kvm } from "@nats-io/kv";
export type { KV, KvStatus } from "@nats-io/kv";
