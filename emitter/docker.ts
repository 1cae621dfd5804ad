// The only file that speaks Docker's Engine API. Read-only: events, inspect, list, info, ping —
// nothing that mutates. Plain HTTP over the socket with connections kept alive: an inspect right
// after a start then costs one request on an open connection, not a connection of its own.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { http, https, type Agent, type IncomingMessage, type RequestOptions } from "../common/node-http.ts";

/** The part of `GET /containers/{id}/json` berth reads. Docker leaves out or nulls what a container lacks. */
export type ContainerInspect = {
  Id: string;
  Name: string;
  Config?: {
    Image?: string;
    Hostname?: string;
    Env?: string[] | null;
    Labels?: Record<string, string> | null;
    ExposedPorts?: Record<string, unknown> | null;
  } | null;
  HostConfig?: { NetworkMode?: string } | null;
  NetworkSettings?: {
    Networks?: Record<string, { IPAddress?: string; GlobalIPv6Address?: string } | null> | null;
    Ports?: Record<string, { HostIp?: string; HostPort?: string }[] | null> | null;
  } | null;
  State?: { Running?: boolean; ExitCode?: number; StartedAt?: string; Health?: { Status?: string } | null } | null;
};

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
  /** Closes the kept-alive connections. */
  close(): void;
};

/**
 * Podman's Docker-compatible API filters on its own event names and only renames them on output:
 * its `die` matches the filter `died`, and removal is `remove` where Docker says `destroy`.
 * Docker ignores filter values it never emits, so one list serves both engines.
 */
export const WATCHED_ACTIONS = ["start", "die", "died", "destroy", "remove", "health_status", "rename"] as const;

/** A request Docker answered with an error status. */
export class DockerApiError extends Error {
  override readonly name = "DockerApiError";
  readonly statusCode: number;
  constructor(path: string, statusCode: number, text: string) {
    super(`docker: GET ${path}: ${statusCode}: ${text}`);
    this.statusCode = statusCode;
  }
}

type Endpoint = { options: RequestOptions; secure: boolean };

/**
 * `unix:///var/run/docker.sock`, `tcp://host:2375` or `http(s)://host:port` → where requests go.
 * `https://` (or `tcp://` with DOCKER_TLS_VERIFY, as the docker CLI does) verifies the engine with
 * DOCKER_CERT_PATH's ca.pem and presents its cert.pem and key.pem.
 */
export function dockerEndpoint(dockerHost: string, tls: { certPath?: string | undefined; verify?: boolean } = {}): Endpoint {
  const url = new URL(dockerHost);
  if (url.protocol === "unix:") {
    return { options: { socketPath: url.pathname, agent: new http.Agent({ keepAlive: true, maxFreeSockets: 4 }) }, secure: false };
  }
  const secure = url.protocol === "https:" || (url.protocol === "tcp:" && tls.verify === true);
  const port = Number(url.port || (secure ? 2376 : 2375));
  if (!secure) return { options: { host: url.hostname, port, agent: new http.Agent({ keepAlive: true, maxFreeSockets: 4 }) }, secure };
  const file = (name: string) => (tls.certPath === undefined ? undefined : readFileSync(join(tls.certPath, name)));
  const [ca, cert, key] = [file("ca.pem"), file("cert.pem"), file("key.pem")];
  const agent = new https.Agent({ keepAlive: true, maxFreeSockets: 4, ...(ca ? { ca } : {}), ...(cert && key ? { cert, key } : {}) });
  return { options: { host: url.hostname, port, agent }, secure };
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
  stream.once("close", () => {
    lines.close();
  });
  try {
    for await (const line of lines) {
      if (line.trim() !== "") yield JSON.parse(line) as DockerEvent;
    }
  } finally {
    signal.removeEventListener("abort", stop);
    stream.destroy();
  }
}

async function bodyText(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export function dockerSource(dockerHost: string, tls?: { certPath?: string | undefined; verify?: boolean }): DockerSource {
  const endpoint = dockerEndpoint(dockerHost, tls);
  const send = endpoint.secure ? https.request : http.request;

  /** GET `path`: the response once its head arrived; an error status is thrown with Docker's message. */
  const open = (path: string, signal?: AbortSignal) =>
    new Promise<IncomingMessage>((resolve, reject) => {
      const req = send({ ...endpoint.options, method: "GET", path, headers: { host: "docker" }, ...(signal ? { signal } : {}) }, (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          resolve(res);
          return;
        }
        bodyText(res).then((text) => {
          let message = text.trim();
          try {
            message = (JSON.parse(text) as { message?: string }).message ?? message;
          } catch {
            // not JSON: Docker's text as it is
          }
          reject(new DockerApiError(path, status, message));
        }, reject);
      });
      req.once("error", reject);
      req.end();
    });
  const getJson = async <T>(path: string): Promise<T> => JSON.parse(await bodyText(await open(path))) as T;

  return {
    async openEvents(since, signal) {
      const filters = JSON.stringify({ type: ["container"], event: WATCHED_ACTIONS });
      // Docker takes `since` as `<seconds>[.<nanoseconds>]` text.
      const query = `filters=${encodeURIComponent(filters)}${since ? `&since=${encodeURIComponent(since)}` : ""}`;
      const res = await open(`/events?${query}`, signal);
      return readEvents(res, signal);
    },
    async inspect(id) {
      try {
        return await getJson<ContainerInspect>(`/containers/${encodeURIComponent(id)}/json`);
      } catch (err) {
        if (err instanceof DockerApiError && err.statusCode === 404) return undefined;
        throw err;
      }
    },
    async runningIds() {
      const filters = encodeURIComponent(JSON.stringify({ status: ["running"] }));
      const list = await getJson<{ Id: string }[]>(`/containers/json?filters=${filters}`);
      return list.map((c) => c.Id);
    },
    async engineName() {
      return (await getJson<{ Name?: string }>("/info")).Name ?? "";
    },
    async ping() {
      await bodyText(await open("/_ping"));
    },
    close() {
      (endpoint.options.agent as Agent).destroy();
    },
  };
}
