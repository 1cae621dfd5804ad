import type { FromSchema } from "json-schema-to-ts";
import { CLOUD_EVENT_REQUIRED, cloudEventAttributes, cloudEventEnvelope, nodeSchema } from "./container-event.ts";
import { openRecord, type Known } from "./open.ts";
import { CONTAINER_ID_PATTERN, NANOS_PATTERN, NODE_NAME_PATTERN } from "./patterns.ts";

/** Upper bound of containers one snapshot can name (64-hex IDs keep it far below NATS's 1 MiB). */
export const MAX_SNAPSHOT_CONTAINERS = 10_000;

/**
 * Every container running on a node at `timeNano`, taken by its emitter at start-up and every
 * BERTH_RESYNC_SECONDS. The handlers treat it as the truth at that instant: a container they
 * believe running that is not listed, and whose last event is older, has stopped.
 */
export const nodeSnapshotSchema = {
  $id: "https://berth.dev/schemas/node-snapshot.v1.json",
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "berth node snapshot",
  ...cloudEventEnvelope,
  required: CLOUD_EVENT_REQUIRED,
  properties: {
    ...cloudEventAttributes,
    type: { const: "io.berth.node.snapshot" },
    subject: { type: "string", pattern: NODE_NAME_PATTERN },
    data: {
      ...openRecord(32),
      required: ["node", "timeNano", "containers"],
      properties: {
        node: nodeSchema,
        timeNano: { type: "string", pattern: NANOS_PATTERN },
        containers: {
          type: "array",
          maxItems: MAX_SNAPSHOT_CONTAINERS,
          uniqueItems: true,
          items: { type: "string", pattern: CONTAINER_ID_PATTERN },
        },
      },
    },
  },
} as const;

export type NodeSnapshot = Known<FromSchema<typeof nodeSnapshotSchema>>;
