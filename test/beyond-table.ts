// Table helpers for the "beyond registrator" unit tests (issue 14): a container's keys → the body.
import assert from "node:assert/strict";
import type { ServiceRegistration } from "../consul/client.ts";
import { servicesFor, type Mapping } from "../mapping/services-for.ts";
import type { MappingSettings } from "../mapping/settings.ts";
import type { Container } from "../schemas/index.ts";
import { ID_A, event, settings } from "./builders.ts";

export const ID12 = ID_A.slice(0, 12);
export const OWN = { berth_node: "node3", berth_container: ID_A };
export const map = (container: Partial<Container>, s: Partial<MappingSettings> = {}): Mapping =>
  servicesFor(event({ container }), settings(s));

/** The one service of `container`, which must map without warnings. */
export const only = (container: Partial<Container>, s: Partial<MappingSettings> = {}): ServiceRegistration => {
  const { services, warnings } = map(container, s);
  assert.equal(services.length, 1, JSON.stringify(services));
  assert.deepEqual(warnings, []);
  return services[0]!;
};

/** `expected`: the body's fields a case is about (undefined: the field is not sent). */
export type Row = [
  what: string,
  container: Partial<Container>,
  expected: { [K in keyof ServiceRegistration]?: ServiceRegistration[K] | undefined },
  settings?: Partial<MappingSettings>,
];

/** Each case: the fields named in `expected` are exactly these (the rest of the body is svc4's). */
export function table(rows: Row[]) {
  for (const [what, container, expected, s] of rows) {
    const svc = only(container, s);
    const picked = Object.fromEntries(Object.keys(expected).map((k) => [k, svc[k as keyof ServiceRegistration]]));
    assert.deepEqual(picked, expected, what);
  }
}

/** Some warning of `container`'s mapping matches `pattern`. */
export const warned = (container: Partial<Container>, pattern: RegExp) =>
  assert.ok(
    map(container).warnings.some((w) => pattern.test(w)),
    `${JSON.stringify(map(container).warnings)} ~ ${pattern}`,
  );
