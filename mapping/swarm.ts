// Pure: containers that are tasks of a Docker Swarm service (gliderlabs/registrator#476, #520, #567,
// #588, #607, #657). Docker labels each task container with its service; the emitter shares the
// `com.docker.swarm.` labels. What only a manager knows — the service's virtual IP, its ingress-
// published ports, its replica count — is not on the task container, so it is not berth's: berth
// registers each task, on the node it runs on, at its own address on the service's overlay network.
import type { Container } from "../schemas/index.ts";

export const SWARM_SERVICE_LABEL = "com.docker.swarm.service.name";
/** Docker's default name for the routing-mesh network every task with ingress-published ports joins. */
export const INGRESS_NETWORK = "ingress";

/** The Swarm service a task container belongs to (`stack_web` in a stack), or undefined for any other container. */
export function swarmServiceOf(container: Container): string | undefined {
  return container.labels?.[SWARM_SERVICE_LABEL] || undefined;
}
