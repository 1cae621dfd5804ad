// Item 4: reconciliation. 10 nodes × 1,000 running containers are registered through the real
// pipeline, plus 100 per node that then die while no emitter watches (their services are stale);
// each agent then loses the services of 100 running containers (missing). One snapshot per node
// goes through the emitter's real path; the figure is the time from publishing the snapshots to
// the last change in any agent, and the number of agent calls it took, beside the differences.
// The floor: the same drift made again, fixed by the agent calls alone (bench/floor-reconcile.ts).
import { nowNanos } from "../emitter/snapshot.ts";
import { OWNER_META } from "../mapping/meta.ts";
import { waitFor } from "../test/harness/wait.ts";
import { startHandlers, stopAll } from "./children.ts";
import { startFastAgent, type FastAgent, type StoredService } from "./fast-agent.ts";
import { fixDirectly } from "./floor-reconcile.ts";
import { round, windowed } from "./measure.ts";
import { containerId, syntheticEmitter, type SyntheticEmitter } from "./synthetic.ts";

/** Nodes; running containers per node; stale and missing services, each as a share of them; messages in flight per handler. */
const RUN = { nodes: 10, containers: 1000, drift: 0.1, concurrency: 64 } as const;

type Node = {
  name: string;
  agent: FastAgent;
  emitter: SyntheticEmitter;
  running: string[];
  dead: string[];
  missing: string[];
  /** The drift as made: services the agent lost, and services of dead containers it still holds. */
  lost: StoredService[];
  stale: StoredService[];
};

/** Makes the node's drift: the agent loses the services of `missing`; those of `dead` stay (stale). */
function makeDrift(node: Node): void {
  for (const s of node.lost) node.agent.forget(s.ID);
  for (const s of node.stale) node.agent.restore(s);
  node.agent.resetRecords();
}

/** Containers of the node the agent holds services of. */
function held(node: Node): Set<string> {
  return new Set(node.agent.ownedBy(node.name).map((s) => s.Meta[OWNER_META.container] ?? ""));
}

const converged = (node: Node) => {
  const have = held(node);
  return have.size === node.running.length && node.running.every((id) => have.has(id));
};

export async function measureReconcile(natsUrl: string) {
  const o = RUN;
  const prefix = "brec";
  const drifted = Math.round(o.containers * o.drift);
  const nodes: Node[] = [];
  try {
    for (let n = 0; n < o.nodes; n++) {
      const name = `rec${n}`;
      const running = Array.from({ length: o.containers }, (_, i) => containerId(`${name}-run-${i}`));
      const dead = Array.from({ length: drifted }, (_, i) => containerId(`${name}-dead-${i}`));
      // Both register their own close with the harness cleanup, so neither outlives a failure here.
      const emitter = await syntheticEmitter(natsUrl, prefix, name);
      const agent = await startFastAgent();
      emitter.prepare([...running, ...dead]);
      nodes.push({ name, agent, emitter, running, dead, missing: running.slice(0, drifted), lost: [], stale: [] });
    }
    const handlers = await startHandlers(2, {
      NATS_URL: natsUrl,
      BERTH_PREFIX: prefix,
      BERTH_CONSUL_AGENTS: nodes.map((n) => `${n.name}=${n.agent.url}`).join(","),
      BERTH_HANDLER_CONCURRENCY: String(o.concurrency),
    });
    let convergedMs: number;
    let calls: { register: number; deregister: number; services: number };
    let peaks: number[];
    try {
      // Desired state: every container started, through the pipeline (setup, not timed).
      const starts = nodes.flatMap((node) => [...node.running, ...node.dead].map((id, i) => () => node.emitter.emit(id, i)));
      await windowed(starts.length, 256, (i) => starts[i]!());
      await waitFor(() => nodes.every((n) => held(n).size === o.containers + drifted), {
        what: "setup registered",
        timeoutMs: 120_000,
        intervalMs: 100,
      });
      for (const node of nodes) {
        const of = (ids: readonly string[]) => {
          const set = new Set(ids);
          return node.agent.ownedBy(node.name).filter((s) => set.has(s.Meta[OWNER_META.container] ?? ""));
        };
        node.lost = of(node.missing);
        node.stale = of(node.dead);
        makeDrift(node);
      }
      const t0 = performance.now();
      await Promise.all(nodes.map((node) => node.emitter.snapshot([...node.running], nowNanos())));
      await waitFor(() => nodes.every(converged), { what: "agents converged", timeoutMs: 60_000, intervalMs: 10 });
      convergedMs = Math.max(...nodes.map((n) => n.agent.lastChangeAt())) - t0;
      calls = { register: 0, deregister: 0, services: 0 };
      for (const n of nodes) for (const k of Object.keys(calls) as (keyof typeof calls)[]) calls[k] += n.agent.calls[k];
    } finally {
      peaks = await stopAll(handlers);
    }
    // The floor, once berth's handlers are stopped: the same drift, fixed by the agent calls alone.
    const totalCalls = calls.register + calls.deregister + calls.services;
    const differences = o.nodes * 2 * drifted;
    for (const node of nodes) makeDrift(node);
    const floorMs = await fixDirectly(nodes.map((n) => ({ agentUrl: n.agent.url, missing: n.lost, stale: n.stale })));
    if (!nodes.every(converged)) throw new Error("the reconcile floor did not fix the drift it was given");
    return {
      nodes: o.nodes,
      containers_per_node: o.containers,
      stale_per_node: drifted,
      missing_per_node: drifted,
      differences,
      converge_ms: round(convergedMs, 0),
      floor_converge_ms: round(floorMs, 0),
      ratio: round(convergedMs / floorMs),
      agent_calls: { ...calls, total: totalCalls, per_difference: round(totalCalls / differences) },
      /** One register or deregister per difference; berth adds one listing per node. */
      floor_calls: differences,
      target: "converged ≤ 2 s; agent calls ≈ differences (one per difference + a listing per node), not nodes × containers",
      met: convergedMs <= 2000 && totalCalls <= 1.1 * (differences + o.nodes),
      handler_peak_rss_mb: peaks,
    };
  } finally {
    for (const node of nodes) {
      await node.emitter.close();
      await node.agent.close();
    }
  }
}
