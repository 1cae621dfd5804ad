// Repair requests: a node whose agent could not take its changes is repaired from the state bucket
// once the agent answers. The request is a message on `<prefix>.v1.repair.<node>` in a work-queue
// stream keeping one per node, so however long an agent stays away and however many changes wait,
// one message per node waits with them (P5, P7). Any handler takes it; it asks the agent again
// every RETRY_AFTER_MS until the node is repaired.
import type { Bus, InboundMessage } from "../common/nats/index.ts";
import { publishStored } from "../common/nats/index.ts";
import { nodeOfRepairSubject, repairSubject, type RepairRequest } from "../schemas/index.ts";
import { countApplied, refusedBy } from "./apply-snapshot.ts";
import type { HandlerDeps } from "./deps.ts";
import { gatedAgent, throughGate } from "./gate-call.ts";
import { NO_HANDLER_METRICS } from "./metrics.ts";
import { RETRY_AFTER_MS } from "./node-gate.ts";
import { readNode, repairNode } from "./repair.ts";
import { DEFAULT_MAPPING_SETTINGS } from "../mapping/settings.ts";

/** A node still waiting is logged on its first failed try and then every this many tries. */
const LOG_EVERY_TRIES = 30;

export function repairRequester(bus: Bus) {
  return async (node: string, reason: string, since: number): Promise<void> => {
    const request: RepairRequest = {
      node,
      reason: reason.slice(0, 1024),
      since: new Date(since).toISOString(),
      at: new Date().toISOString(),
    };
    await publishStored(bus, repairSubject(bus.prefix, node), new TextEncoder().encode(JSON.stringify(request)));
  };
}

/**
 * Repairs the node a request names, unless this handler is repairing it already or its agent failed
 * a moment ago (then the request comes back after RETRY_AFTER_MS). Done → ack; the agent still
 * unable → the request comes back; each outcome logged (a node that keeps waiting, not every try).
 */
export function repairHandler(deps: HandlerDeps) {
  const repairing = new Set<string>();
  const metrics = deps.metrics ?? NO_HANDLER_METRICS;
  return async (message: InboundMessage): Promise<void> => {
    const node = nodeOfRepairSubject(deps.prefix, message.subject);
    const agent = node === undefined ? undefined : deps.agentFor(node);
    if (node === undefined || agent === undefined) {
      message.ack();
      deps.log.warn({ subject: message.subject, reason: "no agent configured for this node" }, "repair dropped");
      return;
    }
    if (repairing.has(node) || deps.gate.retryIn(node) > 0) {
      message.nak(Math.max(deps.gate.retryIn(node), RETRY_AFTER_MS));
      return;
    }
    repairing.add(node); // a long repair: the pull layer tells NATS it is still working on the request
    try {
      const settings = deps.mapping ?? DEFAULT_MAPPING_SETTINGS;
      const repairDeps = {
        fixed: countApplied(deps, node),
        bucket: deps.bucket,
        agent: gatedAgent(deps.gate, node, agent),
        settings,
        refused: refusedBy(deps),
        ...(deps.metrics ? { metrics: deps.metrics } : {}),
      };
      const result = await throughGate(
        deps,
        node,
        async () => repairNode(repairDeps, { name: node }, await readNode(deps.bucket, node), BigInt(Date.now()) * 1_000_000n),
        true,
      );
      message.ack();
      metrics.repaired(node, "done");
      deps.log.info({ node, tries: message.deliveryCount, ...result }, "repaired");
    } catch (err) {
      message.nak(RETRY_AFTER_MS);
      metrics.repaired(node, "waiting");
      if (message.deliveryCount % LOG_EVERY_TRIES === 1) {
        deps.log.warn(
          { node, tries: message.deliveryCount, waiting_for: (err as Error).message, retry_ms: RETRY_AFTER_MS },
          "repair waits",
        );
      }
    } finally {
      repairing.delete(node);
    }
  };
}
