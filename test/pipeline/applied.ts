// The oracle for events a test publishes itself rather than containers it runs: the agent of the
// events' node holds exactly the services the mapping gives for them (stamped as the handler stamps
// them), field by field; for a stop, none.
import { stamped } from "../../mapping/fingerprint.ts";
import { servicesFor } from "../../mapping/services-for.ts";
import type { MappingSettings } from "../../mapping/settings.ts";
import type { ContainerEvent } from "../../schemas/index.ts";
import type { AgentService, ConsulDouble } from "../consul-double/index.ts";
import { waitFor } from "../harness/wait.ts";
import { describeDifferences, nodeDifferences, type Difference, type Want } from "./compare.ts";

/**
 * Waits until `agent` holds, of the containers of `events` (one event each: its latest), exactly the
 * mapping of each — or, with `wholeNode`, until that is all it holds of berth's for the node — and
 * resolves with those containers' services. On the deadline, throws with every difference.
 */
export async function appliedTo(
  agent: ConsulDouble | undefined,
  node: string,
  events: readonly ContainerEvent[],
  settings: MappingSettings,
  opts: { timeoutMs: number; wholeNode: boolean },
): Promise<AgentService[]> {
  if (!agent) throw new Error(`node ${node} has no agent double`);
  const wants = new Map<string, Want>();
  for (const event of events)
    for (const s of servicesFor(event, settings).services) wants.set(s.ID, { service: stamped(s), container: event.data.container });
  const ids = new Set(events.map((e) => e.data.container.id));
  const judged = (s: AgentService) =>
    opts.wholeNode || ids.has(s.Meta["berth_container"] ?? "") || ids.has(s.Meta["berth_sidecar_of"] ?? "");
  const what = opts.wholeNode ? `all of ${node}'s services` : events.map((e) => e.data.container.id.slice(0, 12)).join(", ");
  let last: Difference[] = [];
  try {
    return await waitFor(
      () => {
        const services = Object.fromEntries(Object.entries(agent.services()).filter(([, s]) => judged(s)));
        last = nodeDifferences(node, wants, { services, checks: agent.checks() }, settings);
        return last.length === 0 && Object.values(services).filter((s) => ids.has(s.Meta["berth_container"] ?? ""));
      },
      { what: `${node}'s agent holding the mapping of ${what}`, timeoutMs: opts.timeoutMs, intervalMs: 20 },
    );
  } catch (err) {
    throw new Error(`${node}'s agent does not hold the mapping of ${what} after ${opts.timeoutMs} ms:\n${describeDifferences(last)}`, {
      cause: err,
    });
  }
}
