import type { Logger } from "../common/log.ts";
import type { Tracer } from "../common/tracing/index.ts";
import type { NodeInfo } from "../schemas/index.ts";
import type { DockerSource } from "./docker.ts";
import type { Publish } from "./publish.ts";

/** What the emitter's loops (watch.ts: Docker's events; snapshot.ts: the node's snapshots) work with. */
export type WatchDeps = {
  docker: DockerSource;
  publish: Publish;
  node: NodeInfo;
  labelPrefixes: readonly string[];
  log: Logger;
  signal: AbortSignal;
  /** A trace per Docker event (common/tracing/); none when absent. */
  tracer?: Tracer;
  /** Told when the Docker event stream is open (true) and when it broke (false): readiness. */
  onDocker?: (up: boolean) => void;
};
