// What startPipeline (test/pipeline/index.ts) gives a test.
import type { TestContext } from "node:test";
import type { ContainerServices } from "../../cli/container-services.ts";
import type { Bus } from "../../common/nats/index.ts";
import type { MappingSettings } from "../../mapping/settings.ts";
import type { ContainerEvent } from "../../schemas/index.ts";
import type { BerthProcess } from "../berth-process.ts";
import type { AgentService, ConsulDouble } from "../consul-double/index.ts";
import type { PrivateDockerEngine } from "../harness/dockerd.ts";
import type { NatsCluster } from "../harness/nats-cluster.ts";
import type { NatsServer } from "../harness/nats.ts";
import type { PodmanEngine } from "../harness/podman.ts";
import type { ReadDeadLetter, TestBus } from "./bus.ts";
import type { Drift } from "./oracle.ts";
import type { Processes } from "./processes.ts";

export type Pipeline = Omit<Processes, "emitterEnv"> & {
  /** True when the pipeline runs; else skips `t` (under CI=true: fails it), naming what is missing. */
  ready: (t: TestContext) => boolean;
  /** False when a prerequisite is missing: then nothing else of the pipeline is there (set-up beyond it is skipped). */
  started: boolean;
  prefix: string;
  /** The mapping settings of the handlers' environment: the oracle's. */
  settings: MappingSettings;
  nats: NatsServer | undefined;
  natsCluster: NatsCluster | undefined;
  natsUrl: string;
  /** The test's bus (option `bus`). */
  bus: Bus;
  publish: TestBus["publish"];
  deadLetters: (limit?: number) => Promise<ReadDeadLetter[]>;
  /** Another connection to the pipeline's NATS as `name`, with `env` (e.g. credentials) over NATS_URL and BERTH_PREFIX. */
  connect: (name: string, env?: Record<string, string>) => Promise<Bus>;
  engine: (node: string) => PrivateDockerEngine;
  podman: (node: string) => PodmanEngine;
  /** Starts a private dockerd for a node declared without an engine (for a file whose other tests need none). */
  startEngine: (node: string) => Promise<PrivateDockerEngine>;
  /** The docker CLI against the node's engine. */
  docker: (node: string, ...args: string[]) => Promise<string>;
  /**
   * `docker run -d` of the test image on the node — 8080 published on the node's address unless `args` publish
   * ports, SERVICE_TAGS=berth-test unless `args` set SERVICE_TAGS —; its ID.
   */
  run: (node: string, ...args: string[]) => Promise<string>;
  running: (node: string) => Promise<Set<string>>;
  agent: (node: string) => ConsulDouble;
  agentUrl: (node: string) => string;
  startAgent: (node: string) => Promise<ConsulDouble>;
  stopAgent: (node: string) => Promise<void>;
  emitter: (node: string) => BerthProcess;
  /** The container's services on its node as `berth explain` computes them, with the handlers' settings unless given. */
  explain: (node: string, ref: string, settings?: MappingSettings) => Promise<ContainerServices>;
  drift: (node: string) => Promise<Drift>;
  /** Waits until each node's agent equals the mapping of its running containers (default: every node with an engine). */
  converged: (nodes?: readonly string[], timeoutMs?: number) => Promise<Drift[]>;
  /** Waits until the event's node's agent holds exactly what the mapping gives for the event's container; its services. */
  applied: (event: ContainerEvent, timeoutMs?: number) => Promise<AgentService[]>;
  /** Waits until, of berth's, the node's agent holds exactly the mapping of `events` (each container's latest) and nothing else. */
  holds: (node: string, events: readonly ContainerEvent[], timeoutMs?: number) => Promise<AgentService[]>;
  stop: () => Promise<void>;
};
