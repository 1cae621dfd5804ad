// Pure: a container's Docker HEALTHCHECK mirrored into Consul. Every service of a container that
// has a health check gets one more check, a TTL check with a deterministic ID, whose status the
// handler sets after each registration (PUT /v1/agent/check/update/:id) from the container's
// latest state: healthy → passing, unhealthy → critical, starting → BERTH_HEALTH_INITIAL_STATUS.
//
// Why a TTL check with a 10-year TTL: Docker emits `health_status` only when the status changes,
// so a container healthy for months sends nothing, and a short TTL would expire under it unless
// something refreshed every check (traffic through JetStream, or timers in stateless workers).
// Consul requires TTL > 0; 87600h never expires in practice, and the status changes only when
// berth says so. When a container stops, its services go, and the check with them.
import type { Container, ContainerEvent } from "../schemas/index.ts";
import type { ServiceCheck, ServiceRegistration } from "../consul/types.ts";
import type { MappingSettings } from "./settings.ts";

export const HEALTH_CHECK_TTL = "87600h";
export const HEALTH_CHECK_NAME = "Docker health check";
const HEALTH_CHECK_PREFIX = "berth-health:";

export type CheckStatus = NonNullable<ServiceCheck["Status"]>;
export type CheckUpdate = { checkId: string; status: CheckStatus; output: string };

export const healthCheckId = (serviceId: string) => `${HEALTH_CHECK_PREFIX}${serviceId}`;

const hasHealthCheck = (container: Container) => container.health !== undefined && container.health !== "none";

/** Docker's health status → the Consul check status berth mirrors it to; undefined without a health check. */
export function consulStatusOf(container: Container, initial: CheckStatus): CheckStatus | undefined {
  switch (container.health) {
    case "healthy":
      return "passing";
    case "unhealthy":
      return "critical";
    case "starting":
      return initial;
    default:
      return undefined;
  }
}

/**
 * The service with the TTL check added (in `Checks`, after the SERVICE_CHECK_* ones). Its body
 * does not depend on the current health, so a health change does not re-register the service:
 * only the check's status is updated.
 */
export function withHealthCheck(service: ServiceRegistration, container: Container, settings: MappingSettings): ServiceRegistration {
  if (!hasHealthCheck(container)) return service;
  const check: ServiceCheck = {
    CheckID: healthCheckId(service.ID),
    Name: HEALTH_CHECK_NAME,
    Notes: "mirrors the container's Docker HEALTHCHECK status (set by berth)",
    TTL: HEALTH_CHECK_TTL,
    Status: settings.healthInitialStatus,
  };
  return { ...service, Checks: [...(service.Checks ?? []), check] };
}

/** The status updates that make each registered health check say what Docker says now. */
export function healthUpdates(event: ContainerEvent, services: readonly ServiceRegistration[], settings: MappingSettings): CheckUpdate[] {
  const { container } = event.data;
  const status = consulStatusOf(container, settings.healthInitialStatus);
  if (status === undefined) return [];
  const output = `Docker health status: ${container.health} (as of ${event.time})`;
  return services
    .filter((s) => (s.Checks ?? []).some((c) => c.CheckID === healthCheckId(s.ID)))
    .map((s) => ({ checkId: healthCheckId(s.ID), status, output }));
}
