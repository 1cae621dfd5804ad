// The FLOOR of reconciliation, not product code: the same differences fixed by the agent calls
// alone — a register per missing service, a deregister per stale one — with none of berth's work
// (no state read, no listing, no comparing). Nodes in parallel, one call at a time within a node,
// as a handler reconciles a node.
import { registrationOf, type StoredService } from "./fast-agent.ts";
import { floorHttp, type FloorHttp } from "./floor-http.ts";

export type NodeDifferences = { agentUrl: string; missing: readonly StoredService[]; stale: readonly StoredService[] };

/** Milliseconds from the first call to the last answer. */
export async function fixDirectly(nodes: readonly NodeDifferences[]): Promise<number> {
  const pools: FloorHttp[] = nodes.map((n) => floorHttp(n.agentUrl, 1));
  try {
    const started = performance.now();
    await Promise.all(
      nodes.map(async (node, i) => {
        const pool = pools[i]!;
        for (const s of node.missing) {
          await pool.put("/v1/agent/service/register", JSON.stringify(registrationOf(s)));
        }
        for (const s of node.stale) await pool.put(`/v1/agent/service/deregister/${encodeURIComponent(s.ID)}`);
      }),
    );
    return performance.now() - started;
  } finally {
    for (const p of pools) p.close();
  }
}
