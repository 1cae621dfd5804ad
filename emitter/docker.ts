// The only file that imports dockerode. Read-only: events, inspect, list, info — nothing that mutates.
import Docker from "dockerode";
import { createInterface } from "node:readline";

export type ContainerInspect = Docker.ContainerInspectInfo;

/** One line of Docker's `/events` stream (the fields berth reads; `status`/`id`/`from` are legacy). */
export type DockerEvent = {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes?: Record<string, string> };
  time: number;
  timeNano: number;
};

export type DockerSource = {
  /**
   * Opens Docker's event stream (resolves once Docker has accepted the request, so a list taken
   * afterwards misses nothing) and yields container events from `since` until the stream breaks.
   */
  openEvents(since: string | undefined, signal: AbortSignal): Promise<AsyncIterable<DockerEvent>>;
  /** The container as inspected now, or undefined when it no longer exists. */
  inspect(id: string): Promise<ContainerInspect | undefined>;
  runningIds(): Promise<string[]>;
  engineName(): Promise<string>;
  ping(): Promise<void>;
};

/**
 * Podman's Docker-compatible API filters on its own event names and only renames them on output:
 * its `die` matches the filter `died`, and removal is `remove` where Docker says `destroy`.
 * Docker ignores filter values it never emits, so one list serves both engines.
 */
export const WATCHED_ACTIONS = ["start", "die", "died", "destroy", "remove", "health_status", "rename"] as const;

/** `unix:///var/run/docker.sock`, `tcp://host:2375` or `http(s)://host:port` → dockerode options. */
export function dockerOptions(dockerHost: string): Docker.DockerOptions {
  const url = new URL(dockerHost);
  if (url.protocol === "unix:") return { socketPath: url.pathname };
  const protocol = url.protocol === "https:" ? "https" : "http";
  return { protocol, host: url.hostname, port: Number(url.port || (protocol === "https" ? 2376 : 2375)) };
}

/** Chunks can hold several events or end mid-event: one line is one event. */
export async function* readEvents(stream: NodeJS.ReadableStream & { destroy(): void }, signal: AbortSignal): AsyncGenerator<DockerEvent> {
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  // readline ends on the input's 'end' only; a destroyed stream must close it too.
  const stop = () => {
    lines.close();
    stream.destroy();
  };
  signal.addEventListener("abort", stop, { once: true });
  stream.once("close", () => lines.close());
  try {
    for await (const line of lines) {
      if (line.trim() !== "") yield JSON.parse(line) as DockerEvent;
    }
  } finally {
    signal.removeEventListener("abort", stop);
    stream.destroy();
  }
}

export function dockerSource(dockerHost: string): DockerSource {
  const docker = new Docker(dockerOptions(dockerHost));
  return {
    async openEvents(since, signal) {
      const filters = { type: ["container" as const], event: [...WATCHED_ACTIONS] };
      // Docker takes `since` as `<seconds>.<nanoseconds>` text; the typings only know whole seconds.
      const options = { filters, ...(since ? { since } : {}) } as unknown as Docker.GetEventsOptions;
      const stream = (await docker.getEvents(options)) as NodeJS.ReadableStream & { destroy(): void };
      return readEvents(stream, signal);
    },
    async inspect(id) {
      try {
        return await docker.getContainer(id).inspect();
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) return undefined;
        throw err;
      }
    },
    async runningIds() {
      const list = await docker.listContainers({ filters: { status: ["running"] } });
      return list.map((c) => c.Id);
    },
    async engineName() {
      const info = (await docker.info()) as { Name?: string };
      return info.Name ?? "";
    },
    async ping() {
      await docker.ping();
    },
  };
}
