// Builds berth's events: the CloudEvents envelope around a container or a node snapshot. The
// emitter publishes them; the handler makes a stand-in `stopped` with them; tests use them too.
import type { Container, ContainerEvent, ContainerEventType, NodeInfo } from "./container-event.ts";
import type { NodeSnapshot } from "./node-snapshot.ts";

/** The CloudEvents attributes every event of `node` at `timeNano` carries, whatever its kind. */
export function cloudEventOf(node: NodeInfo, timeNano: bigint) {
  return {
    specversion: "1.0",
    source: `berth://${node.name}`,
    time: new Date(Number(timeNano / 1_000_000n)).toISOString(),
    datacontenttype: "application/json",
  } as const;
}

/** Wraps a container as a CloudEvent; `id` is deterministic so a replayed Docker event is a duplicate. */
export function toContainerEvent(type: ContainerEventType, node: NodeInfo, timeNano: bigint, container: Container): ContainerEvent {
  const action = type.slice("io.berth.container.".length);
  return {
    ...cloudEventOf(node, timeNano),
    id: `${node.name}.${container.id.slice(0, 12)}.${action}.${timeNano}`,
    type,
    subject: container.id,
    data: { node, timeNano: timeNano.toString(), container },
  };
}

/** The node's running containers at `timeNano` (each listed once). */
export function toNodeSnapshot(node: NodeInfo, timeNano: bigint, containers: string[]): NodeSnapshot {
  return {
    ...cloudEventOf(node, timeNano),
    id: `${node.name}.snapshot.${timeNano}`,
    type: "io.berth.node.snapshot",
    subject: node.name,
    data: { node, timeNano: timeNano.toString(), containers: [...new Set(containers)] },
  };
}
