// What berth's set-up meets from a cluster (common/nats/setup.ts): what passes with time and is
// waited for — an election, a cluster still forming — and what no wait fixes, which stops the process.
import { ConfigError } from "../config.ts";
import { isTransient } from "./errors.ts";
import { JetStreamApiError } from "./sdk.ts";

/** JetStream's "no suitable peers for placement": the cluster knows fewer servers than the replicas asked for, so far. */
const NO_SUITABLE_PEERS = 10005;

/**
 * A cluster still forming: its servers are up but have not all met yet, so placing replicas is
 * refused for a moment (one `up` in thirteen, issue 24). Waited for like an election; a cluster
 * that has too few servers for good is said in the line berth logs while it waits.
 */
class PlacementPending extends Error {
  constructor(name: string, replicas: number, cause: unknown) {
    super(
      `${replicas} JetStream servers to place ${name} on (BERTH_REPLICAS=${replicas}; NATS: ${(cause as Error).message}): a cluster still forming soon has them, one of fewer servers never will: then lower BERTH_REPLICAS`,
      { cause },
    );
  }
}

/**
 * The server's refusal of a replica count it cannot hold (a single server, not a cluster): no retry
 * helps, so it stops the process with the reason (exit 2). A cluster that cannot place the replicas
 * yet is waited for (PlacementPending).
 */
export function replicasRefused(err: unknown, name: string, replicas: number): Error | undefined {
  if (!(err instanceof JetStreamApiError) || replicas === 1 || !/replica|cluster|insufficient resources|peer/i.test(err.message))
    return undefined;
  if (err.code === NO_SUITABLE_PEERS || /no suitable peers/i.test(err.message)) return new PlacementPending(name, replicas, err);
  return new ConfigError([
    `BERTH_REPLICAS=${replicas}: NATS cannot create ${name} with ${replicas} replicas (${err.message}): run a cluster of at least ${replicas} JetStream servers, or lower BERTH_REPLICAS`,
  ]);
}

/** What set-up waits for when `err` can pass with time; undefined when it cannot. */
export function pendingReason(err: unknown): string | undefined {
  if (err instanceof PlacementPending) return err.message;
  if (!isTransient(err)) return undefined;
  if (err instanceof JetStreamApiError) return `JetStream's cluster to elect its leaders (NATS: ${err.message})`;
  return `JetStream to answer (no meta leader yet, or none reachable: ${(err as Error).message})`;
}
