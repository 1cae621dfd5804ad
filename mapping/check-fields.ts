// Pure: the check fields registrator never sent (gliderlabs/registrator#659, #680; hashicorp/consul#1184):
// HTTP headers and body, the TLS server name, and how many results change a check's status.
import type { ServiceCheck } from "../consul/types.ts";
import type { PortKeys, Warn } from "./service-keys.ts";

/** RFC 9110 token: what an HTTP header name may hold. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const COUNT = /^\d{1,9}$/;

/** Go's CanonicalMIMEHeaderKey: `x-api-key` → `X-Api-Key`. */
const canonical = (name: string) => name.toLowerCase().replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());

/**
 * `SERVICE_CHECK_HEADER=Name: value` and `SERVICE_CHECK_HEADER_<NAME>=value` (`_` in `<NAME>` becomes
 * `-`: `SERVICE_CHECK_HEADER_X_API_KEY` sends `X-Api-Key`). Names are canonicalised as Go does; the
 * same name given twice sends both values.
 */
function headersOf(keys: PortKeys, warn: Warn): Record<string, string[]> | undefined {
  const header: Record<string, string[]> = {};
  const add = (name: string, value: string, key: string) => {
    if (TOKEN.test(name)) (header[canonical(name)] ??= []).push(value.trim());
    else warn(`${key}: "${name}" is not an HTTP header name: ignored`);
  };
  const generic = keys.get("check_header")?.value;
  if (generic !== undefined) {
    const colon = generic.indexOf(":");
    if (colon < 1) warn(`SERVICE_CHECK_HEADER="${generic}" is not "Name: value": ignored`);
    else add(generic.slice(0, colon).trim(), generic.slice(colon + 1), "SERVICE_CHECK_HEADER");
  }
  const named = [...keys].filter(([k]) => k.startsWith("check_header_")).sort(([a], [b]) => (a < b ? -1 : 1));
  for (const [key, { value }] of named) add(key.slice("check_header_".length).replaceAll("_", "-"), value, `SERVICE_${key.toUpperCase()}`);
  return Object.keys(header).length > 0 ? header : undefined;
}

function countOf(keys: PortKeys, key: string, warn: Warn): number | undefined {
  const given = keys.get(key)?.value.trim();
  if (given === undefined) return undefined;
  if (COUNT.test(given)) return Number(given);
  warn(`SERVICE_${key.toUpperCase()}="${given}" is not a whole number: ignored`);
  return undefined;
}

export type CheckFields = {
  /** For HTTP and HTTPS checks. */
  http: Pick<ServiceCheck, "Header" | "Body">;
  /** For checks over TLS (HTTPS, gRPC with TLS). */
  tls: Pick<ServiceCheck, "TLSServerName">;
  /** For every probing check (not TTL: nothing probes it). */
  counts: Pick<ServiceCheck, "SuccessBeforePassing" | "FailuresBeforeWarning" | "FailuresBeforeCritical">;
};

/**
 * Header, body, TLS server name and the status thresholds from their keys. Consul refuses a
 * registration whose FailuresBeforeWarning exceeds FailuresBeforeCritical (0 when not given), so
 * such a FailuresBeforeWarning is dropped with a warning.
 */
export function checkFieldsFor(keys: PortKeys, warn: Warn): CheckFields {
  const header = headersOf(keys, warn);
  const body = keys.get("check_body")?.value;
  const server = keys.get("check_tls_server_name")?.value.trim();
  const success = countOf(keys, "check_success_before_passing", warn);
  const critical = countOf(keys, "check_failures_before_critical", warn);
  let warning = countOf(keys, "check_failures_before_warning", warn);
  if (warning !== undefined && warning > (critical ?? 0)) {
    warn(
      `SERVICE_CHECK_FAILURES_BEFORE_WARNING=${warning} is higher than SERVICE_CHECK_FAILURES_BEFORE_CRITICAL=${critical ?? 0}, which Consul refuses: ignored`,
    );
    warning = undefined;
  }
  return {
    http: { ...(header ? { Header: header } : {}), ...(body !== undefined ? { Body: body } : {}) },
    tls: server ? { TLSServerName: server } : {},
    counts: {
      ...(success !== undefined ? { SuccessBeforePassing: success } : {}),
      ...(warning !== undefined ? { FailuresBeforeWarning: warning } : {}),
      ...(critical !== undefined ? { FailuresBeforeCritical: critical } : {}),
    },
  };
}
