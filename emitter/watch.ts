import { setTimeout as sleep } from "node:timers/promises";
import { logMs } from "../common/log.ts";
import { NO_SPAN, NO_TRACER, type Span, type Tracer } from "../common/tracing/index.ts";
import type { DockerEvent, DockerSource } from "./docker.ts";
import { toContainerEvent, type ContainerEvent } from "../schemas/index.ts";
import type { WatchDeps } from "./deps.ts";
import { containerFromEvent, eventTypeOf, networkPeerOf, normaliseContainer, rfc3339ToNanos } from "./normalise.ts";
import { emitSnapshot, nowNanos } from "./snapshot.ts";

export type { WatchDeps };

const RECONNECT_MIN_MS = 200;
const RECONNECT_MAX_MS = 10_000;

/** A container's inspect, plus that of the container whose network it shares (`container:<x>` mode). */
async function inspectWithPeer(docker: DockerSource, id: string) {
  const info = await docker.inspect(id);
  const peerId = info && networkPeerOf(info);
  return { info, peer: peerId ? await docker.inspect(peerId) : undefined };
}

/** One Docker event as the berth event to publish; a container already gone still yields `stopped`. */
async function toBerthEvent(deps: WatchDeps, event: DockerEvent): Promise<ContainerEvent | undefined> {
  const type = eventTypeOf(event.Action);
  if (!type) return undefined;
  if (type === "io.berth.container.stopped") {
    // A die carries all a stop needs (name, image, labels, exit code). An inspect would wait for
    // Docker's lock on the container, held while it cleans up: in a burst of kills, each stop
    // was published about a second after its die (npm run bench).
    const stopped = containerFromEvent(event, deps.labelPrefixes);
    if (stopped.exitCode !== undefined) return toContainerEvent(type, deps.node, BigInt(event.timeNano), stopped);
  }
  const { info, peer } = await inspectWithPeer(deps.docker, event.Actor.ID);
  const dropped: { key: string; reason: string }[] = [];
  const container = info
    ? normaliseContainer(info, deps.labelPrefixes, dropped, peer)
    : type === "io.berth.container.stopped"
      ? { ...containerFromEvent(event, deps.labelPrefixes), removed: true as const }
      : undefined;
  if (!container) {
    deps.log.info({ container: event.Actor.ID, action: event.Action, reason: "container gone" }, "skipped");
    return undefined;
  }
  for (const d of dropped) deps.log.warn({ container: container.id, key: d.key, reason: d.reason }, "entry not shared");
  return toContainerEvent(type, deps.node, BigInt(event.timeNano), container);
}

/** Turns one Docker event into a published berth event. */
export async function emitEvent(deps: WatchDeps, event: DockerEvent): Promise<void> {
  const berthEvent = await toBerthEvent(deps, event);
  if (berthEvent) await deps.publish(berthEvent);
}

/**
 * A Docker event's trace, from Docker's event time: its read by the emitter, the inspect (and
 * normalising), then the publish the caller times. The publish span's context goes on the event.
 */
function traceEmit(tracer: Tracer, event: DockerEvent, berthEvent: ContainerEvent, read: number, inspected: number): Span {
  const dockerAt = Math.min(read, event.timeNano / 1e6 - performance.timeOrigin);
  const root = tracer.start("berth emit", {
    start: dockerAt,
    attributes: {
      "docker.action": event.Action,
      "container.id": event.Actor.ID,
      "cloudevents.event_id": berthEvent.id,
      "cloudevents.event_type": berthEvent.type,
      "berth.node": berthEvent.data.node.name,
    },
  });
  root.child("docker event read", { start: dockerAt }).end(read);
  root.child("docker inspect", { kind: "client", start: read }).end(inspected);
  return root;
}

/**
 * How many events may be inspected ahead of the one being published. An inspect waits for the
 * container's lock, which Docker holds while it kills or starts it: one at a time, a burst of 50
 * kills queued each stop about a second behind its die (npm run bench).
 */
const INSPECTS_AHEAD = 32;

/**
 * Publishes Docker events in the order Docker sent them, while the inspects of up to
 * INSPECTS_AHEAD later events already run. Returns when every event read has been published or
 * has failed (logged); never throws.
 */
function orderedEmitter(deps: WatchDeps) {
  let published: Promise<void> = Promise.resolve();
  let waiting = 0;
  const report = (event: DockerEvent, err: unknown) => {
    if (!deps.signal.aborted)
      deps.log.error({ container: event.Actor.ID, action: event.Action, err: (err as Error).message }, "event failed");
  };
  return {
    async add(event: DockerEvent) {
      const read = performance.now();
      let inspected = read;
      const prepared = toBerthEvent(deps, event).finally(() => (inspected = performance.now()));
      prepared.catch(() => undefined); // reported in order below
      waiting++;
      published = published.then(async () => {
        let trace = NO_SPAN;
        try {
          const berthEvent = await prepared;
          if (!berthEvent) return;
          const turn = performance.now();
          trace = traceEmit(deps.tracer ?? NO_TRACER, event, berthEvent, read, inspected);
          const publishing = trace.child("nats publish", { kind: "producer", start: turn });
          await deps.publish(publishing.traceparent ? { ...berthEvent, traceparent: publishing.traceparent } : berthEvent);
          publishing.end();
          // Where the time goes, per event (LOG_LEVEL=debug): Docker → read, inspect, in line, published.
          deps.log.debug(
            {
              container: event.Actor.ID,
              action: event.Action,
              since_docker_ms: logMs(read - (event.timeNano / 1e6 - performance.timeOrigin)),
              inspect_ms: logMs(inspected - read),
              waited_turn_ms: logMs(Math.max(0, turn - inspected)),
              publish_ms: logMs(performance.now() - turn),
              // The publish's start on the machine's clock, to line up with the handler's lines (npm run bench).
              publish_at_ms: logMs(performance.timeOrigin + turn),
            },
            "emit timing",
          );
        } catch (err) {
          trace.fail(err);
          report(event, err);
        } finally {
          trace.end();
          waiting--;
        }
      });
      if (waiting >= INSPECTS_AHEAD) await published;
    },
    drained: () => published,
  };
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
    if (!info?.State?.Running || info.State.StartedAt === undefined) continue;
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
  // A call, not the property: it changes while the loop awaits.
  const stopped = () => deps.signal.aborted;
  for (let attempt = 0; !stopped(); attempt++) {
    try {
      const events = await deps.docker.openEvents(since, deps.signal);
      const listed = await emitRunning(deps);
      deps.log.info({ running: listed, since: since ?? null }, "watching docker");
      deps.onDocker?.(true);
      attempt = 0;
      const emitter = orderedEmitter(deps);
      try {
        for await (const event of events) {
          since = String(event.time);
          await emitter.add(event);
        }
      } finally {
        await emitter.drained();
      }
      if (!stopped()) deps.log.warn({ since }, "docker event stream ended");
    } catch (err) {
      if (stopped()) return;
      deps.log.warn({ err: (err as Error).message, since }, "docker unreachable");
    }
    deps.onDocker?.(false);
    const delay = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** attempt);
    await sleep(delay, undefined, { signal: deps.signal }).catch(() => undefined);
  }
}
