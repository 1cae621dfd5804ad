// Pure: the services an agent holds for a node compared, field by field, with the registrations the
// mapping gives (stamped as the handler stamps them). Each difference names the node, the service,
// the field, what was wanted and what the agent holds.
import { isDeepStrictEqual } from "node:util";
import { consulStatusOf, healthCheckId } from "../../mapping/health-check.ts";
import type { ServiceCheck, ServiceRegistration } from "../../consul/client.ts";
import type { MappingSettings } from "../../mapping/settings.ts";
import type { Container } from "../../schemas/index.ts";
import type { AgentCheck, AgentService } from "../consul-double/index.ts";
import { formatGoDuration } from "../consul-double/duration.ts";
import { goDurationNanos } from "../../mapping/go-duration.ts";

export type Difference = { node: string; service: string; field: string; want: unknown; got: unknown };

/** One service the agent should hold: the stamped body berth registers, and the container it is of. */
export type Want = { service: ServiceRegistration; container: Container };

/** What one agent holds of a node: its services and checks, as the agent lists them. */
export type Held = { services: Record<string, AgentService>; checks: Record<string, AgentCheck> };

/** Go's text of a duration as Consul prints it back (`1m` → `1m0s`); "" when unset. */
const goText = (text: string | undefined) => {
  const ns = text === undefined ? undefined : goDurationNanos(text);
  return ns === undefined || ns === 0n ? "" : formatGoDuration(Number(ns));
};

/** The check type the agent gives a check body (structs.CheckType's IsHTTP, IsTCP …). */
function checkType(c: ServiceCheck): string {
  const interval = goText(c.Interval) !== "";
  if (c.GRPC && interval) return "grpc";
  if (c.HTTP && interval) return "http";
  if (c.TTL && goText(c.TTL) !== "") return "ttl";
  if (c.TCP && interval) return "tcp";
  if ((c.Args?.length ?? 0) > 0 && interval) return "script";
  return "";
}

type CheckView = { Name: string; Type: string; Interval: string; Timeout: string; Notes: string; Status?: string };

/** The checks the agent creates for `want`, by CheckID, as GET /v1/agent/checks shows them. */
export function expectedChecks({ service, container }: Want, settings: MappingSettings): Map<string, CheckView> {
  const all = [...(service.Check ? [service.Check] : []), ...(service.Checks ?? [])];
  const out = new Map<string, CheckView>();
  all.forEach((c, i) => {
    const id = c.CheckID ?? (all.length === 1 ? `service:${service.ID}` : `service:${service.ID}:${i + 1}`);
    const health = id === healthCheckId(service.ID) ? consulStatusOf(container, settings.healthInitialStatus) : undefined;
    out.set(id, {
      Name: c.Name ?? `Service '${service.Name}' check`,
      Type: checkType(c),
      Interval: goText(c.Interval),
      Timeout: goText(c.Timeout),
      Notes: c.Notes ?? "",
      // Only a Docker health check's status is berth's to say; the agent's own probes set the others.
      ...(health === undefined ? {} : { Status: health }),
    });
  });
  return out;
}

/** The differences between one wanted service and the one the agent holds under its ID. */
export function serviceDifferences(node: string, want: Want, got: AgentService, held: Held, settings: MappingSettings): Difference[] {
  const s = want.service;
  const diffs: Difference[] = [];
  const field = (name: string, wanted: unknown, actual: unknown) => {
    if (!isDeepStrictEqual(wanted, actual)) diffs.push({ node, service: s.ID, field: name, want: wanted, got: actual });
  };
  field("Name", s.Name, got.Service);
  field("Port", s.Port ?? 0, got.Port);
  field("Address", s.Address ?? "", got.Address);
  field("Tags", s.Tags ?? [], got.Tags);
  field("Meta", sorted(s.Meta ?? {}), sorted(got.Meta));
  field("EnableTagOverride", s.EnableTagOverride ?? false, got.EnableTagOverride);
  field("Weights", s.Weights ?? { Passing: 1, Warning: 1 }, got.Weights);
  const checks = expectedChecks(want, settings);
  const present = Object.values(held.checks).filter((c) => c.ServiceID === s.ID);
  field("checks", [...checks.keys()].sort(), present.map((c) => c.CheckID).sort());
  for (const c of present) {
    const view = checks.get(c.CheckID);
    if (!view) continue;
    const { Status, ...fixed } = view;
    const actual = { Name: c.Name, Type: c.Type, Interval: c.Interval, Timeout: c.Timeout, Notes: c.Notes };
    field(`check ${c.CheckID}`, fixed, actual);
    if (Status !== undefined) field(`check ${c.CheckID} Status`, Status, c.Status);
  }
  return diffs;
}

const sorted = (record: Record<string, string>) => Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1)));

/**
 * Every difference between what `node`'s agent holds of berth's (ownership Meta `berth_node`) and
 * `wants` (by service ID): a service missing, one that should not be there (`stale`), a field that
 * differs; the Connect sidecars the agent creates for wanted services, and no others. `ignored`:
 * containers whose services are not judged (kept after a failed exit under on-success).
 */
export function nodeDifferences(
  node: string,
  wants: ReadonlyMap<string, Want>,
  held: Held,
  settings: MappingSettings,
  ignored: ReadonlySet<string> = new Set(),
): Difference[] {
  const diffs: Difference[] = [];
  const ours = Object.values(held.services).filter((s) => s.Meta["berth_node"] === node);
  const owned = new Map(ours.filter((s) => s.Meta["berth_container"] !== undefined).map((s) => [s.ID, s]));
  for (const [id, want] of wants) {
    const got = owned.get(id);
    if (got) diffs.push(...serviceDifferences(node, want, got, held, settings));
    else diffs.push({ node, service: id, field: "service", want: `registered for ${short(want.container.id)}`, got: "missing" });
  }
  for (const [id, got] of owned) {
    const container = got.Meta["berth_container"]!;
    if (!wants.has(id) && !ignored.has(container))
      diffs.push({ node, service: id, field: "service", want: "absent", got: `registered for ${short(container)}` });
  }
  const sidecars = [...wants.values()].filter((w) => w.service.Connect?.SidecarService).map((w) => `${w.service.ID}-sidecar-proxy`);
  const heldSidecars = ours.filter((s) => s.Meta["berth_sidecar_of"] !== undefined && !ignored.has(s.Meta["berth_sidecar_of"]));
  for (const id of sidecars)
    if (!held.services[id]) diffs.push({ node, service: id, field: "sidecar", want: "created by the agent", got: "missing" });
  for (const s of heldSidecars)
    if (!sidecars.includes(s.ID))
      diffs.push({ node, service: s.ID, field: "sidecar", want: "absent", got: `of ${short(s.Meta["berth_sidecar_of"]!)}` });
  return diffs;
}

const short = (id: string) => id.slice(0, 12);

/** One line per difference: `f1 f1:busybox:3f2a…:8080 Port: want 32768, got 8080`. */
export function describeDifferences(diffs: readonly Difference[]): string {
  return diffs.map((d) => `${d.node} ${d.service} ${d.field}: want ${JSON.stringify(d.want)}, got ${JSON.stringify(d.got)}`).join("\n");
}
