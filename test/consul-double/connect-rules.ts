// Connect parts of a service definition the register route needs before any sidecar exists
// (structs.NodeService.Validate's nested-sidecar rules, and the sugar the agent does not keep).
import type { ServiceBody } from "./bodies.ts";

/** NodeService.Validate, nested sidecar validation (part of §2.5 step 8). */
export function nestedSidecarProblems(body: ServiceBody): string[] {
  const sidecar = (body.Connect as { SidecarService?: ServiceBody } | undefined)?.SidecarService;
  const problems: string[] = [];
  if (sidecar?.ID) problems.push("A SidecarService cannot specify an ID as this is managed by the agent");
  if ((sidecar?.Connect as { SidecarService?: unknown } | undefined)?.SidecarService) {
    problems.push("A SidecarService cannot have a nested SidecarService");
  }
  return problems;
}

/** Connect.SidecarService is registration sugar: the agent keeps only the rest of Connect (sidecar.ts). */
export function withoutSidecarService(connect: unknown): unknown {
  if (typeof connect !== "object" || connect === null || !("SidecarService" in connect)) return connect;
  const { SidecarService: _sugar, ...rest } = connect as Record<string, unknown>;
  return rest;
}
