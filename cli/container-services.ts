// One container, read from Docker, through the pipeline's own steps: inspect (and its network
// peer's) → normalise → wire validation → mapping. What `berth explain` prints.
import type { DockerSource } from "../emitter/docker.ts";
import { networkPeerOf, normaliseContainer, type Dropped } from "../emitter/normalise.ts";
import { servicesFor, type Mapping } from "../mapping/services-for.ts";
import type { MappingSettings } from "../mapping/settings.ts";
import { isValidNodeName, parseContainerEvent, type ContainerEvent, toContainerEvent } from "../schemas/index.ts";

export type ContainerServicesOptions = {
  /** BERTH_NODE; default: the engine's name up to the first dot, as the emitter does. */
  node: string | undefined;
  /** BERTH_HOST_IP */
  hostIp: string | undefined;
  settings: MappingSettings;
  /** BERTH_LABEL_PREFIXES: only changes what the event carries, never the mapping. */
  labelPrefixes?: readonly string[];
};

export type ContainerServices = { event: ContainerEvent; mapping: Mapping; dropped: Dropped[] };

/**
 * The event the emitter would publish for `ref` (a name or ID) now, and its mapping. Undefined
 * when there is no such container; throws SchemaError when the handler would dead-letter the event.
 */
export async function containerServices(
  docker: DockerSource,
  ref: string,
  options: ContainerServicesOptions,
): Promise<ContainerServices | undefined> {
  const info = await docker.inspect(ref);
  if (!info) return undefined;
  const peerId = networkPeerOf(info);
  const peer = peerId ? await docker.inspect(peerId) : undefined;
  const node = options.node ?? (await docker.engineName()).split(".")[0] ?? "";
  if (!isValidNodeName(node)) throw new Error(`Docker's engine name "${node}" is not a valid node name: set BERTH_NODE or --node`);
  const dropped: Dropped[] = [];
  const container = normaliseContainer(info, options.labelPrefixes ?? [], dropped, peer);
  const type = info.State?.Running ? "io.berth.container.started" : "io.berth.container.stopped";
  const nodeInfo = { name: node, ...(options.hostIp ? { hostIp: options.hostIp } : {}) };
  const event = parseContainerEvent(toContainerEvent(type, nodeInfo, BigInt(Date.now()) * 1_000_000n, container));
  return { event, mapping: servicesFor(event, options.settings), dropped };
}
