// The FLOOR of reconciliation, not product code: the same differences fixed by the agent calls
// alone — a register per missing service, a deregister per stale one — with none of berth's work
// (no state read, no listing, no comparing). Nodes in parallel, one call at a time within a node,
// as a handler reconciles a node. It imports undici directly, which the one-import rule allows
// for bench/floor-*.ts only.
import { Pool } from "undici";
import { registrationOf, type StoredService } from "./fast-agent.ts";

export type NodeDifferences = { agentUrl: string; missing: readonly StoredService[]; stale: readonly StoredService[] };

async function put(pool: Pool, path: string, body?: string): Promise<void> {
  const res = await pool.request({
    method: "PUT",
    path,
    ...(body === undefined ? {} : { body, headers: { "content-type": "application/json" } }),
  });
  await res.body.text();
  if (res.statusCode !== 200) throw new Error(`agent answered ${res.statusCode} to ${path}`);
}

/** Milliseconds from the first call to the last answer. */
export async function fixDirectly(nodes: readonly NodeDifferences[]): Promise<number> {
  const pools = nodes.map((n) => new Pool(n.agentUrl, { connections: 1 }));
  try {
    const started = performance.now();
    await Promise.all(
      nodes.map(async (node, i) => {
        const pool = pools[i]!;
        for (const s of node.missing) {
          await put(pool, "/v1/agent/service/register", JSON.stringify(registrationOf(s)));
        }
        for (const s of node.stale) await put(pool, `/v1/agent/service/deregister/${encodeURIComponent(s.ID)}`);
      }),
    );
    return performance.now() - started;
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
}
