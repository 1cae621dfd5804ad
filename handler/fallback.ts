// What berth registers in place of a service the agent refused for good, and the error that
// reports the refusals of a container once its other services are applied.
import { ConsulError, type AgentClient, type ServiceCheck, type ServiceRegistration } from "../consul/client.ts";
import type { Applied } from "./applied.ts";
import { HEALTH_CHECK_TTL, healthCheckId } from "../mapping/health-check.ts";
import { OWNER_META } from "../mapping/meta.ts";

/** The critical check a service registered in place of a refused one carries: it says why. */
export const refusedCheckId = (serviceId: string) => `berth-refused:${serviceId}`;

/** What berth registered in place of a refused service, or `nothing`. */
export type Fallback = "without its script checks" | "bare" | "nothing";

/** A service the agent refused for good: its answer, and what berth registered instead. */
export type Refusal = { serviceId: string; status: number; text: string; fallback: Fallback };

/** The agent's answer first, then which service and what berth did about it (a lone refusal with nothing instead: the answer alone). */
const describe = (r: Refusal, alone: boolean) =>
  r.fallback === "nothing"
    ? alone
      ? r.text
      : `${r.text} (service ${r.serviceId}: not registered)`
    : `${r.text} (service ${r.serviceId}: registered ${r.fallback}, with the critical check ${refusedCheckId(r.serviceId)})`;

/**
 * The agent refused some of a container's services for good (a refusal waiting cannot change: a
 * 4xx, or a permanent 5xx such as disabled script checks); everything else was applied. Not
 * retryable: the handler dead-letters the container's state as `agent-rejected` with each reason.
 */
export class RefusedServices extends ConsulError {
  override readonly retryable = false;
  readonly refusals: readonly Refusal[];
  /** What was applied besides: the other services registered, stale ones removed, health set. */
  readonly applied: Applied;
  constructor(refusals: readonly Refusal[], applied: Applied) {
    super("agent.service.register", refusals[0]?.status ?? 0, refusals.map((r) => describe(r, refusals.length === 1)).join("; "));
    this.refusals = refusals;
    this.applied = applied;
  }
}

const SCRIPTS_DISABLED = /^Scripts are disabled on this agent/;
const runsScript = (check: ServiceCheck) => (check.Args?.length ?? 0) > 0;

/**
 * What berth registers in place of a service the agent refused for good, so that it is seen, and seen
 * failing, instead of silently missing:
 * - script checks refused (`enable_script_checks` off): the same service without its script checks;
 * - any other refusal of the body: the bare service — ID, name, tags, address, port, tag override,
 *   its Connect sidecar, berth's ownership Meta and its Docker health check: none of the fields the
 *   agent validates (its other checks, Meta, Weights, tagged addresses) but Connect, kept so that
 *   reconciliation, which expects the sidecar, does not take the fallback for a changed service;
 * either with a critical TTL check `berth-refused:<id>` whose notes hold the agent's answer, so that
 * the service stays out of DNS and `?passing` as a failing check would keep it. It keeps the hash of
 * the body berth wanted (`berth_hash`): reconciliation takes it as current and does not ask the agent
 * again at every snapshot. An ACL refusal (403) gets nothing: the fallback would be refused as well.
 */
export function fallbackFor(
  service: ServiceRegistration,
  refusal: ConsulError,
): { body: ServiceRegistration; fallback: Fallback } | undefined {
  if (refusal.status === 403) return undefined;
  const checks = [...(service.Check ? [service.Check] : []), ...(service.Checks ?? [])];
  const scripts = SCRIPTS_DISABLED.test(refusal.agentText);
  const fallback: Fallback = scripts ? "without its script checks" : "bare";
  const refusedCheck: ServiceCheck = {
    CheckID: refusedCheckId(service.ID),
    Name: "Registration refused by the Consul agent",
    Notes: `berth registered this service ${fallback}: the agent answered ${refusal.status}: ${refusal.agentText}`,
    TTL: HEALTH_CHECK_TTL,
    Status: "critical",
  };
  const meta = service.Meta ?? {};
  const ownership = Object.fromEntries(Object.values(OWNER_META).flatMap((key) => (Object.hasOwn(meta, key) ? [[key, meta[key]!]] : [])));
  const base: ServiceRegistration = scripts
    ? (({ Check: _check, Checks: _checks, ...rest }) => rest)(service)
    : {
        ID: service.ID,
        Name: service.Name,
        ...(service.Tags ? { Tags: service.Tags } : {}),
        ...(service.Address ? { Address: service.Address } : {}),
        ...(service.Port === undefined ? {} : { Port: service.Port }),
        ...(service.EnableTagOverride === undefined ? {} : { EnableTagOverride: service.EnableTagOverride }),
        ...(service.Connect === undefined ? {} : { Connect: service.Connect }),
        Meta: ownership,
      };
  const kept = checks.filter((c) => (scripts ? !runsScript(c) : c.CheckID === healthCheckId(service.ID)));
  return { body: { ...base, Checks: [...kept, refusedCheck] }, fallback };
}

/** Registers the fallback of a refused service (see fallbackFor); a refusal of the fallback too leaves nothing. */
export async function registerInstead(agent: AgentClient, service: ServiceRegistration, refusal: ConsulError) {
  const instead = fallbackFor(service, refusal);
  const refused = (fallback: Fallback): Refusal => ({ serviceId: service.ID, status: refusal.status, text: refusal.agentText, fallback });
  if (!instead) return { refusal: refused("nothing"), held: undefined };
  try {
    await agent.register(instead.body);
  } catch (err) {
    if (!(err instanceof ConsulError) || err.retryable) throw err;
    return { refusal: refused("nothing"), held: undefined };
  }
  const output = `agent answered ${refusal.status}: ${refusal.agentText}`;
  await agent.updateCheck(refusedCheckId(service.ID), "critical", output);
  return { refusal: refused(instead.fallback), held: instead.body };
}
