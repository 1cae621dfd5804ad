// Handler settings that shape the mapping: their environment variables and their parsed form.
import type { FromSchema } from "json-schema-to-ts";
import { splitList } from "./service-keys.ts";

/** Docker's rule for network names. */
const NETWORK_NAME = "^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$";

export const MAPPING_ENV = {
  BERTH_INTERNAL: {
    type: "boolean",
    default: false,
    description: "register exposed ports on the container's address instead of published ports on the host's (registrator -internal)",
  },
  BERTH_EXPLICIT: {
    type: "boolean",
    default: false,
    description: "register only ports whose SERVICE_NAME or SERVICE_<port>_NAME is set (registrator -explicit)",
  },
  BERTH_TAGS: {
    type: "string",
    default: "",
    maxLength: 4096,
    description: "tags appended to every service, comma-separated, \\, for a literal comma (registrator -tags, without templates)",
  },
  BERTH_DEREGISTER: {
    enum: ["always", "on-success"],
    default: "always",
    description:
      "always: a stopped container's services are removed; on-success: kept when it exited with a failure code (not 0, not killed by a signal)",
  },
  BERTH_NETWORK: {
    type: "string",
    pattern: NETWORK_NAME,
    description: "network whose container address is advertised (BERTH_INTERNAL, container:<x> mode) when the container is on it",
  },
  BERTH_NAME_FROM: {
    enum: ["image", "compose"],
    default: "image",
    description: "default service name: the image's base name, or the Compose service name when there is one",
  },
  BERTH_NAME_SUFFIX: {
    enum: ["auto", "always", "never"],
    default: "auto",
    description:
      "the -<port> name suffix: auto (registrator's: when several ports qualify, never after SERVICE_<port>_NAME), always, never; SERVICE_NAME_SUFFIX overrides it per container",
  },
  BERTH_ADDRESS_FAMILY: {
    enum: ["ipv4", "ipv6"],
    default: "ipv4",
    description:
      "the IP family advertised as a dual-stack service's Address; the other family's address goes to TaggedAddresses (lan_ipv4/lan_ipv6)",
  },
  BERTH_HEALTH_INITIAL_STATUS: {
    enum: ["passing", "warning", "critical"],
    default: "critical",
    description: "status of the Consul check mirroring a Docker HEALTHCHECK while Docker says `starting`",
  },
} as const;

export type MappingEnv = FromSchema<{ type: "object"; properties: typeof MAPPING_ENV; additionalProperties: false }>;

/** When a service name gets `-<port>` (mapping/naming.ts). */
export type NameSuffix = "auto" | "always" | "never";

export type MappingSettings = {
  internal: boolean;
  explicit: boolean;
  tags: readonly string[];
  deregister: "always" | "on-success";
  network: string | undefined;
  nameFrom: "image" | "compose";
  nameSuffix: NameSuffix;
  addressFamily: "ipv4" | "ipv6";
  /** Consul status of a Docker health check that is still `starting` (mapping/health-check.ts). */
  healthInitialStatus: "passing" | "warning" | "critical";
};

/** The settings when no variable is set (registrator's defaults). */
export const DEFAULT_MAPPING_SETTINGS: MappingSettings = Object.freeze({
  internal: false,
  explicit: false,
  tags: [],
  deregister: "always",
  network: undefined,
  nameFrom: "image",
  nameSuffix: "auto",
  addressFamily: "ipv4",
  healthInitialStatus: "critical",
});

/** Validated configuration (the handler's, or explain's `loadMappingSettings`) → mapping settings. */
export function mappingSettings(config: MappingEnv): MappingSettings {
  return Object.freeze({
    internal: config.BERTH_INTERNAL,
    explicit: config.BERTH_EXPLICIT,
    tags: Object.freeze(splitList(config.BERTH_TAGS)),
    deregister: config.BERTH_DEREGISTER,
    network: config.BERTH_NETWORK,
    nameFrom: config.BERTH_NAME_FROM,
    nameSuffix: config.BERTH_NAME_SUFFIX,
    addressFamily: config.BERTH_ADDRESS_FAMILY,
    healthInitialStatus: config.BERTH_HEALTH_INITIAL_STATUS,
  });
}
