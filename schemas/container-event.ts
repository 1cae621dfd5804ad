import type { FromSchema } from "json-schema-to-ts";
import { openRecord, type Known } from "./open.ts";
import { CONTAINER_ID_PATTERN, NANOS_PATTERN, NODE_NAME_PATTERN } from "./patterns.ts";

const PORT = { type: "integer", minimum: 0, maximum: 65535 } as const;
const PROTOCOL = { enum: ["tcp", "udp", "sctp"] } as const;
const SHORT_TEXT = { type: "string", maxLength: 256 } as const;
const IP_TEXT = { type: "string", maxLength: 64, pattern: "^[0-9A-Fa-f.:]*$" } as const;

const stringMap = (maxProperties: number, keyPattern: string) =>
  ({
    type: "object",
    maxProperties,
    propertyNames: { type: "string", maxLength: 256, pattern: keyPattern },
    additionalProperties: { type: "string", maxLength: 4096 },
  }) as const;

/** Network name → the container's addresses on it. */
const NETWORKS = {
  type: "object",
  maxProperties: 64,
  propertyNames: { maxLength: 256 },
  additionalProperties: { ...openRecord(16), properties: { ipv4: IP_TEXT, ipv6: IP_TEXT } },
} as const;

export const nodeSchema = {
  ...openRecord(16),
  required: ["name"],
  properties: {
    name: { type: "string", pattern: NODE_NAME_PATTERN },
    /** Address advertised for published ports (`BERTH_HOST_IP`). */
    hostIp: IP_TEXT,
  },
} as const;

export const containerSchema = {
  ...openRecord(64),
  required: ["id", "name"],
  properties: {
    id: { type: "string", pattern: CONTAINER_ID_PATTERN },
    name: { type: "string", minLength: 1, maxLength: 256 },
    image: SHORT_TEXT,
    hostname: SHORT_TEXT,
    networkMode: SHORT_TEXT,
    networks: NETWORKS,
    /**
     * `networkMode` `container:<x>`: the networks of container <x>, whose network stack this one
     * shares (the handler cannot ask Docker). Absent when <x> could not be inspected.
     */
    peerNetworks: NETWORKS,
    /** Published ports: one entry per host binding. */
    ports: {
      type: "array",
      maxItems: 1024,
      items: {
        ...openRecord(16),
        required: ["containerPort", "protocol"],
        properties: { containerPort: PORT, protocol: PROTOCOL, hostIp: IP_TEXT, hostPort: PORT },
      },
    },
    exposedPorts: {
      type: "array",
      maxItems: 1024,
      items: { ...openRecord(16), required: ["containerPort", "protocol"], properties: { containerPort: PORT, protocol: PROTOCOL } },
    },
    health: { enum: ["none", "starting", "healthy", "unhealthy"] },
    exitCode: { type: "integer", minimum: -2147483648, maximum: 2147483647 },
    /** The container no longer existed when inspected (e.g. `--rm`): the rest comes from the Docker event alone. */
    removed: { const: true },
    /** Only SERVICE_* variables: the rest of a container's environment never leaves its host. */
    env: stringMap(256, "^SERVICE_"),
    labels: stringMap(256, "^.+$"),
  },
} as const;

const dataSchema = {
  ...openRecord(32),
  required: ["node", "timeNano", "container"],
  properties: { node: nodeSchema, timeNano: { type: "string", pattern: NANOS_PATTERN }, container: containerSchema },
} as const;

export const CONTAINER_EVENT_TYPES = [
  "io.berth.container.started",
  "io.berth.container.stopped",
  "io.berth.container.health",
  "io.berth.container.renamed",
] as const;

/** The CloudEvents 1.0 attributes every berth event carries; `type`, `subject` and `data` are each kind's own. */
export const CLOUD_EVENT_REQUIRED = ["specversion", "id", "source", "type", "subject", "time", "datacontenttype", "data"] as const;
export const cloudEventAttributes = {
  specversion: { const: "1.0" },
  id: { type: "string", minLength: 1, maxLength: 256 },
  /** `berth://<node>`: the node name's pattern, behind the scheme. */
  source: { type: "string", pattern: `^berth://${NODE_NAME_PATTERN.slice(1)}` },
  time: { type: "string", maxLength: 64 },
  datacontenttype: { const: "application/json" },
} as const;

/**
 * The envelope is open to the attributes berth does not read — CloudEvents' optional ones
 * (`dataschema`), extensions (`traceparent`, `tracestate`, any other) — within CloudEvents' own
 * grammar: an attribute's name is lower-case ASCII letters and digits (the spec asks for at most 20
 * characters; up to 64 are taken), its value a JSON string, number, boolean or null (never an
 * object or array, which no CloudEvents attribute is). A name or value outside that grammar is not
 * a CloudEvent: refused.
 */
export const cloudEventEnvelope = {
  type: "object",
  $comment:
    "Open to CloudEvents attributes berth does not read (optional ones such as dataschema, extensions such as traceparent): accepted and ignored (never stored, never forwarded, counted in berth_unknown_fields_total), at most 40 attributes in all, each named as CloudEvents names attributes and holding a string of at most 2048 characters, a number, a boolean or null.",
  maxProperties: 40,
  propertyNames: { pattern: "^[a-z0-9]{1,64}$" },
  additionalProperties: { anyOf: [{ type: "string", maxLength: 2048 }, { type: "number" }, { type: "boolean" }, { type: "null" }] },
} as const;

/** CloudEvents 1.0, structured JSON mode, carrying one normalised container. */
export const containerEventSchema = {
  $id: "https://berth.dev/schemas/container-event.v1.json",
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "berth container event",
  ...cloudEventEnvelope,
  required: CLOUD_EVENT_REQUIRED,
  properties: {
    ...cloudEventAttributes,
    /**
     * The CloudEvents distributed-tracing extension: the W3C trace context of the span that published
     * the event (the emitter's), continued by the handler; container events only (snapshots are not
     * traced). Bounded, not refused when malformed: as W3C trace context asks, a traceparent that does
     * not parse starts a new trace (common/tracing/span.ts), and a registration is never dead-lettered
     * for its trace. Vendors' `tracestate` is passed on as it is.
     */
    traceparent: { type: "string", maxLength: 2048 },
    tracestate: { type: "string", maxLength: 2048 },
    type: { enum: CONTAINER_EVENT_TYPES },
    subject: { type: "string", pattern: CONTAINER_ID_PATTERN },
    data: dataSchema,
  },
} as const;

/** The event as berth reads it: what the schema names (the rest is taken out: schemas/open.ts). */
export type ContainerEvent = Known<FromSchema<typeof containerEventSchema>>;
export type Container = ContainerEvent["data"]["container"];
export type NodeInfo = ContainerEvent["data"]["node"];
export type ContainerEventType = ContainerEvent["type"];
