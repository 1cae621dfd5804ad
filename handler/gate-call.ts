// Calls to a node's agent through its gate (handler/node-gate.ts): a node in trouble gets its
// change left to a repair instead of a worker's slot (P7).
import { ConsulError, type AgentClient } from "../consul/client.ts";
import type { HandlerDeps } from "./deps.ts";
import type { NodeGate } from "./node-gate.ts";

/** The agent could not take a change now (unreachable, failing, slow): the node's repair will bring it. */
export class Deferred extends Error {}

/** Why waiting may help, in a line for people: `agent unreachable: …` or `agent answered 503: …`. */
export const troubleOf = (err: ConsulError) =>
  err.status === 0 ? `agent unreachable: ${err.agentText}` : `agent answered ${err.status}: ${err.agentText}`;

/** The gate's reason not to call the node's agent now; a repair (`evenIfBusy`) goes on while it is only slow. */
export const gateClosed = (deps: HandlerDeps, node: string, evenIfBusy = false) =>
  deps.gate.blocked(node) ?? (evenIfBusy ? undefined : deps.gate.busy(node));

/**
 * Runs `work` against the node's agent unless the gate says not to now (it failed a moment ago,
 * or — unless `evenIfBusy`, as a repair is — its calls pile up unanswered); a failure waiting can
 * fix closes the gate for a moment. Either way the change is then the node's repair's to bring.
 * An answer, even a refusal, shows the agent is there.
 */
export async function throughGate<T>(deps: HandlerDeps, node: string, work: () => Promise<T>, evenIfBusy = false): Promise<T> {
  const closed = gateClosed(deps, node, evenIfBusy);
  if (closed !== undefined) throw new Deferred(closed);
  try {
    const result = await work();
    deps.gate.succeeded(node);
    return result;
  } catch (err) {
    if (!(err instanceof ConsulError)) throw err;
    if (!err.retryable) {
      deps.gate.succeeded(node);
      throw err;
    }
    deps.gate.failed(node, troubleOf(err));
    throw new Deferred(troubleOf(err), { cause: err });
  }
}

/**
 * The node's agent with each call counted by the gate while it waits for its answer: only the
 * agent's own calls say whether it is slow (the state bucket's round trips are not its doing).
 */
export function gatedAgent(gate: NodeGate, node: string, agent: AgentClient): AgentClient {
  const timed =
    <A extends unknown[], R>(call: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      const leave = gate.enter(node);
      try {
        return await call(...a);
      } finally {
        leave();
      }
    };
  return {
    register: timed(agent.register.bind(agent)),
    deregister: timed(agent.deregister.bind(agent)),
    services: timed(agent.services.bind(agent)),
    updateCheck: timed(agent.updateCheck.bind(agent)),
    close: () => agent.close(),
  };
}
