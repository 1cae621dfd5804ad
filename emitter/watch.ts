import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../common/log.ts";
import type { NodeInfo } from "../schemas/index.ts";
import type { DockerEvent, DockerSource } from "./docker.ts";
import { containerFromEvent, eventTypeOf, networkPeerOf, normaliseContainer, rfc3339ToNanos, toContainerEvent } from "./normalise.ts";
import type { Publish } from "./publish.ts";
import { emitSnapshot, nowNanos } from "./snapshot.ts";

export type WatchDeps = {
  docker: DockerSource;
  publish: Publish;
  node: NodeInfo;
  labelPrefixes: readonly string[];
  log: Logger;
  signal: AbortSignal;
  /** Told when the Docker event stream is open (true) and when it broke (false): readiness. */
  onDocker?: (up: boolean) => void;
};

const RECONNECT_MIN_MS = 200;
const RECONNECT_MAX_MS = 10_000;

/** A container's inspect, plus that of the container whose network it shares (`container:<x>` mode). */
async function inspectWithPeer(docker: DockerSource, id: string) {
  const info = await docker.inspect(id);
  const peerId = info && networkPeerOf(info);
  return { info, peer: peerId ? await docker.inspect(peerId) : undefined };
}

/** Turns one Docker event into a published berth event; a container already gone still yields `stopped`. */
export async function emitEvent(deps: WatchDeps, event: DockerEvent): Promise<void> {
  const type = eventTypeOf(event.Action);
  if (!type) return;
  const { info, peer } = await inspectWithPeer(deps.docker, event.Actor.ID);
  const dropped: { key: string; reason: string }[] = [];
  const container = info
    ? normaliseContainer(info, deps.labelPrefixes, dropped, peer)
    : type === "io.berth.container.stopped"
      ? { ...containerFromEvent(event, deps.labelPrefixes), removed: true as const }
      : undefined;
  if (!container) {
    deps.log.info({ container: event.Actor.ID, action: event.Action, reason: "container gone" }, "skipped");
    return;
  }
  for (const d of dropped) deps.log.warn({ container: container.id, key: d.key, reason: d.reason }, "entry not shared");
  await deps.publish(toContainerEvent(type, deps.node, BigInt(event.timeNano), container));
}

/**
 * Publishes a `started` event for every running container, timed by its own start so order holds,
 * then the node's snapshot as of just before the listing, so containers that stopped while
 * nobody watched are removed.
 */
export async function emitRunning(deps: WatchDeps): Promise<number> {
  const at = nowNanos();
  const ids: string[] = [];
  for (const id of await deps.docker.runningIds()) {
    const { info, peer } = await inspectWithPeer(deps.docker, id);
    if (!info?.State?.Running) continue;
    const container = normaliseContainer(info, deps.labelPrefixes, [], peer);
    await deps.publish(toContainerEvent("io.berth.container.started", deps.node, rfc3339ToNanos(info.State.StartedAt), container));
    ids.push(id);
  }
  await emitSnapshot(deps, { at, ids });
  return ids.length;
}

/**
 * Subscribes to Docker events, then lists running containers (nothing is missed between the two),
 * then follows the stream. A broken stream is reopened with `since` = the last event's second, so
 * events are replayed rather than lost (replays are duplicates JetStream drops by message id),
 * and the running set is published again in case the gap outran Docker's replay buffer.
 */
export async function watchDocker(deps: WatchDeps): Promise<void> {
  let since: string | undefined;
  for (let attempt = 0; !deps.signal.aborted; attempt++) {
    try {
      const events = await deps.docker.openEvents(since, deps.signal);
      const listed = await emitRunning(deps);
      deps.log.info({ running: listed, since: since ?? null }, "watching docker");
      deps.onDocker?.(true);
      attempt = 0;
      for await (const event of events) {
        since = String(event.time);
        try {
          await emitEvent(deps, event);
        } catch (err) {
          if (deps.signal.aborted) return;
          deps.log.error({ container: event.Actor.ID, action: event.Action, err: (err as Error).message }, "event failed");
        }
      }
      if (!deps.signal.aborted) deps.log.warn({ since }, "docker event stream ended");
    } catch (err) {
      if (deps.signal.aborted) return;
      deps.log.warn({ err: (err as Error).message, since }, "docker unreachable");
    }
    deps.onDocker?.(false);
    const delay = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** attempt);
    await sleep(delay, undefined, { signal: deps.signal }).catch(() => undefined);
  }
}
