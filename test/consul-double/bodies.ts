// Request body schemas (structs.ServiceDefinition, structs.CheckType, CheckDefinition,
// checkUpdate) and the TypeScript shapes the decoder produces for them.
import type { Field, Schema } from "./decode.ts";

const str = { t: "string" } as const;
const int = { t: "int" } as const;
const bool = { t: "bool" } as const;
const dur = { t: "duration" } as const;
const any = { t: "any" } as const;
const strings: Schema = { t: "array", of: str, goType: "[]string" };

/** CheckType fields shared by service checks and /v1/agent/check/register. */
const checkTypeFields: Field[] = [
  { name: "CheckID", schema: str },
  { name: "Name", schema: str },
  { name: "Status", schema: str },
  { name: "Notes", schema: str },
  { name: "ScriptArgs", schema: strings, aliases: ["Args", "script_args"] },
  { name: "DockerContainerID", schema: str, aliases: ["docker_container_id"] },
  { name: "Shell", schema: str },
  { name: "HTTP", schema: str },
  { name: "Method", schema: str },
  { name: "Header", schema: { t: "map", of: strings, goType: "map[string][]string" } },
  { name: "Body", schema: str },
  { name: "DisableRedirects", schema: bool },
  { name: "TLSServerName", schema: str, aliases: ["tls_server_name"] },
  { name: "TLSSkipVerify", schema: bool, aliases: ["tls_skip_verify"] },
  { name: "TCP", schema: str },
  { name: "TCPUseTLS", schema: bool },
  { name: "UDP", schema: str },
  { name: "GRPC", schema: str },
  { name: "GRPCUseTLS", schema: bool, aliases: ["grpc_use_tls"] },
  { name: "H2PING", schema: str },
  { name: "H2PingUseTLS", schema: bool, aliases: ["h2ping_use_tls"] },
  { name: "OSService", schema: str },
  { name: "AliasNode", schema: str },
  { name: "AliasService", schema: str },
  { name: "Interval", schema: dur },
  { name: "Timeout", schema: dur },
  { name: "TTL", schema: dur },
  { name: "DeregisterCriticalServiceAfter", schema: dur, aliases: ["deregister_critical_service_after"] },
  { name: "SuccessBeforePassing", schema: int },
  { name: "FailuresBeforeWarning", schema: int },
  { name: "FailuresBeforeCritical", schema: int },
  { name: "OutputMaxSize", schema: int },
  { name: "ProxyHTTP", schema: str },
  { name: "ProxyGRPC", schema: str },
];

export const checkTypeSchema: Schema = {
  t: "struct",
  name: "CheckType",
  fields: [...checkTypeFields, { name: "ServiceID", schema: str, aliases: ["service_id"], ignore: true }],
};

const serviceAddress: Schema = {
  t: "struct",
  name: "ServiceAddress",
  fields: [
    { name: "Address", schema: str },
    { name: "Port", schema: int },
  ],
};

export const serviceDefinitionSchema: Schema & { t: "struct" } = {
  t: "struct",
  name: "ServiceDefinition",
  fields: [
    { name: "Kind", schema: str },
    { name: "ID", schema: str },
    { name: "Name", schema: str },
    { name: "Tags", schema: strings },
    { name: "Address", schema: str },
    {
      name: "TaggedAddresses",
      schema: { t: "map", of: serviceAddress, goType: "map[string]structs.ServiceAddress" },
      aliases: ["tagged_addresses"],
    },
    { name: "Meta", schema: { t: "map", of: str, goType: "map[string]string" } },
    { name: "Port", schema: int },
    { name: "SocketPath", schema: str },
    { name: "Check", schema: checkTypeSchema },
    { name: "Checks", schema: { t: "array", of: checkTypeSchema, goType: "structs.CheckTypes" } },
    {
      name: "Weights",
      schema: {
        t: "struct",
        name: "Weights",
        fields: [
          { name: "Passing", schema: int },
          { name: "Warning", schema: int },
        ],
      },
    },
    { name: "Token", schema: str },
    { name: "EnableTagOverride", schema: bool, aliases: ["enable_tag_override"] },
    { name: "Locality", schema: any },
    { name: "Proxy", schema: any },
  ],
};

/** structs.ServiceConnect: its SidecarService is a whole nested ServiceDefinition (decoded as strictly). */
const serviceConnectSchema: Schema = {
  t: "struct",
  name: "ServiceConnect",
  fields: [
    { name: "Native", schema: bool },
    { name: "SidecarService", schema: serviceDefinitionSchema, aliases: ["sidecar_service"] },
  ],
};
serviceDefinitionSchema.fields.push({ name: "Connect", schema: serviceConnectSchema });

export const checkDefinitionSchema: Schema = {
  t: "struct",
  name: "CheckDefinition",
  fields: [
    { name: "ID", schema: str },
    { name: "ServiceID", schema: str, aliases: ["service_id"] },
    { name: "Token", schema: str },
    ...checkTypeFields.filter((f) => f.name !== "CheckID"),
  ],
};

export const checkUpdateSchema: Schema = {
  t: "struct",
  name: "checkUpdate",
  fields: [
    { name: "Status", schema: str },
    { name: "Output", schema: str },
  ],
};

export type CheckBody = {
  CheckID?: string;
  Name?: string;
  Status?: string;
  Notes?: string;
  ScriptArgs?: string[];
  DockerContainerID?: string;
  Shell?: string;
  HTTP?: string;
  Method?: string;
  Header?: Record<string, string[] | null>;
  Body?: string;
  DisableRedirects?: boolean;
  TLSServerName?: string;
  TLSSkipVerify?: boolean;
  TCP?: string;
  TCPUseTLS?: boolean;
  UDP?: string;
  GRPC?: string;
  GRPCUseTLS?: boolean;
  H2PING?: string;
  H2PingUseTLS?: boolean;
  OSService?: string;
  AliasNode?: string;
  AliasService?: string;
  Interval?: number;
  Timeout?: number;
  TTL?: number;
  DeregisterCriticalServiceAfter?: number;
  SuccessBeforePassing?: number;
  FailuresBeforeWarning?: number;
  FailuresBeforeCritical?: number;
  OutputMaxSize?: number;
  ProxyHTTP?: string;
  ProxyGRPC?: string;
};

export type ServiceAddressBody = { Address?: string; Port?: number };

export type ServiceBody = {
  Kind?: string;
  ID?: string;
  Name?: string;
  Tags?: string[];
  Address?: string;
  TaggedAddresses?: Record<string, ServiceAddressBody>;
  Meta?: Record<string, string>;
  Port?: number;
  SocketPath?: string;
  Check?: CheckBody;
  Checks?: CheckBody[];
  Weights?: { Passing?: number; Warning?: number };
  Token?: string;
  EnableTagOverride?: boolean;
  Locality?: unknown;
  Proxy?: unknown;
  Connect?: unknown;
};

export type CheckDefinitionBody = CheckBody & { ID?: string; ServiceID?: string; Token?: string };
