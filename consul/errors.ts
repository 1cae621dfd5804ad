// A failed agent call, and what it means: whether waiting can help (the node's changes wait for
// its repair) or the agent refuses for good (dead-lettered).
import { redactText } from "../common/redact.ts";

/**
 * Answers with a 5xx status that waiting cannot change: the agent refuses the request itself, and
 * will again (its texts, from Consul's source). Any other 5xx is taken as trouble that passes.
 */
const PERMANENT_REFUSALS: readonly RegExp[] = [
  // agent/agent.go addCheck: a script or Docker check while enable_script_checks is off (the default).
  /^Scripts are disabled on this agent/,
  // agent/agent.go validateService: an explicit tagged address of the wrong family.
  /^Service tagged address "[^"]*" must be a valid ipv[46] address$/,
  // agent/agent.go validateService/addCheck: what the endpoint's own 400s did not catch.
  /^Check is not valid: /,
  // agent/agent.go updateTTLCheck: the check is not a TTL check (before 1.11: or not there at all).
  /^CheckID "[^"]*" does not have associated TTL$/,
];

/** agent/agent.go vetServiceUpdate before 1.11 (PR #10894): `Unknown service "web"`, from 1.7 `Unknown service {"web" {}}`. */
export const UNKNOWN_SERVICE_BEFORE_1_11 = /^Unknown service [{"]/;

/** Whether waiting can help: unreachable, 429, or a 5xx other than a permanent refusal. */
export function isRetryable(status: number, agentText: string): boolean {
  if (status === 0 || status === 429) return true;
  return status >= 500 && !PERMANENT_REFUSALS.some((refusal) => refusal.test(agentText));
}

/**
 * A failed agent call. `status` is the HTTP status, or 0 when the agent could not be reached;
 * `retryable` tells the caller whether waiting can help (unreachable, 429, a 5xx that passes) or
 * not (any other 4xx, or a refusal the agent will repeat, such as disabled script checks).
 */
export class ConsulError extends Error {
  override readonly name = "ConsulError";
  readonly code = "E_CONSUL";
  readonly retryable: boolean;
  readonly agentText: string;
  readonly op: string;
  readonly status: number;
  constructor(op: string, status: number, agentText: string, options?: ErrorOptions) {
    // An agent (or a proxy before it) may quote the token it refused: the text goes to logs and dead letters.
    const text = redactText(agentText);
    super(`consul: ${op}: ${status === 0 ? "agent unreachable" : `${status}`}: ${text}`, options);
    this.op = op;
    this.status = status;
    this.agentText = text;
    this.retryable = isRetryable(status, text);
  }
}
