// The convergence oracle (P2): each node's agent holds, of berth's, exactly the services the mapping
// gives for the node's running containers — computed as `berth explain` computes them (inspect →
// normalise → servicesFor, cli/container-services.ts) with the handlers' mapping settings and the
// node's BERTH_HOST_IP, stamped as the handler stamps them — field by field (name, port, address,
// tags, Meta with berth_hash, tag override, weights, checks, Connect sidecars); and, read from the
// containers themselves (ground-truth.ts), the names and tags they ask for and an answer at each
// service's address and port.
import { containerServices, type ContainerServices } from "../../cli/container-services.ts";
import { stamped } from "../../mapping/fingerprint.ts";
import type { ConsulDouble } from "../consul-double/index.ts";
import { waitFor } from "../harness/wait.ts";
import { describeDifferences, nodeDifferences, type Difference, type Want } from "./compare.ts";
import { groundTruth, type NodeTruth } from "./ground-truth.ts";

/** How far a node's agent is from Docker: `missing` and `stale` services, and every difference (those included). */
export type Drift = { node: string; running: number; missing: number; stale: number; differences: Difference[] };

export type { NodeTruth } from "./ground-truth.ts";

/** The mapping of the container `ref` on the node now, as `berth explain` prints it; undefined once it is gone. */
export const explainOn = (truth: NodeTruth, ref: string, settings = truth.settings): Promise<ContainerServices | undefined> =>
  containerServices(truth.source, ref, { node: truth.node, hostIp: truth.hostIp, settings });

const held = (agent: ConsulDouble | undefined) => ({ services: agent?.services() ?? {}, checks: agent?.checks() ?? {} });

/**
 * Containers whose services berth may keep though they do not run: stopped after a failure under
 * BERTH_DEREGISTER=on-success (the mapping says `keep`). Only asked when the setting is on.
 */
async function keptOf(truth: NodeTruth, owners: Iterable<string>, running: ReadonlySet<string>): Promise<Set<string>> {
  const kept = new Set<string>();
  if (truth.settings.deregister !== "on-success") return kept;
  for (const id of owners) if (!running.has(id) && (await explainOn(truth, id))?.mapping.keep) kept.add(id);
  return kept;
}

/** The node's drift now. Cheap first (container IDs, one list); the mapping of every container only once those agree. */
export async function driftOf(truth: NodeTruth, opts: { probe?: boolean } = {}): Promise<Drift> {
  const running = new Set(await truth.source.runningIds());
  const now = held(truth.agent());
  const ours = Object.values(now.services).filter((s) => s.Meta["berth_node"] === truth.node);
  const owners = new Set(ours.flatMap((s) => s.Meta["berth_container"] ?? []));
  const kept = await keptOf(truth, owners, running);
  const missingOwners = [...running].filter((id) => !owners.has(id));
  const staleOwners = [...owners].filter((id) => !running.has(id) && !kept.has(id));
  if (staleOwners.length > 0 || missingOwners.length > 0) {
    // A running container may have no service at all (no port): only its mapping can say.
    const serviceless = await Promise.all(missingOwners.map(async (id) => (await explainOn(truth, id))?.mapping.services.length === 0));
    const differences = [
      ...missingOwners.filter((_, i) => !serviceless[i]).map((id) => ownerDifference(truth.node, id, "registered", "missing")),
      ...staleOwners.map((id) => ownerDifference(truth.node, id, "absent", "registered")),
    ];
    if (differences.length > 0) return summary(truth.node, running.size, differences);
  }
  const wants = new Map<string, Want>();
  const mapped: ContainerServices[] = [];
  for (const id of running) {
    const found = await explainOn(truth, id);
    if (!found || found.event.type !== "io.berth.container.started") continue; // gone or stopped meanwhile
    mapped.push(found);
    for (const service of found.mapping.services)
      wants.set(service.ID, { service: stamped(service), container: found.event.data.container });
  }
  const differences = nodeDifferences(truth.node, wants, held(truth.agent()), truth.settings, kept);
  if (differences.length === 0 && opts.probe !== false) differences.push(...(await groundTruth(truth, mapped)));
  return summary(truth.node, running.size, differences);
}

const ownerDifference = (node: string, id: string, want: string, got: string): Difference => ({
  node,
  service: `(every service of ${id.slice(0, 12)})`,
  field: "service",
  want,
  got,
});

const summary = (node: string, running: number, differences: Difference[]): Drift => ({
  node,
  running,
  missing: differences.filter((d) => d.field === "service" && d.got === "missing").length,
  stale: differences.filter((d) => d.field === "service" && d.want === "absent").length,
  differences,
});

/**
 * Waits until every node in `truths` has no drift and resolves with each node's; on the deadline,
 * throws with every difference still seen, one line each (node, service, field, want, got).
 */
export async function convergedAll(truths: readonly NodeTruth[], timeoutMs: number): Promise<Drift[]> {
  let last: Drift[] = [];
  try {
    return await waitFor(
      async () => {
        last = await Promise.all(truths.map((t) => driftOf(t)));
        return last.every((d) => d.differences.length === 0) && last;
      },
      { what: "converged", timeoutMs, intervalMs: 100 },
    );
  } catch (err) {
    const lines = describeDifferences(last.flatMap((d) => d.differences));
    throw new Error(
      `agents of ${truths.map((t) => t.node).join(", ")} not equal to the mapping of their running containers after ${timeoutMs} ms:\n${lines}`,
      { cause: err },
    );
  }
}
