// Pure: SERVICE_CHECK_* keys → the Consul checks of one service (registrator.md §2.2–2.3).
import { checkFieldsFor } from "./check-fields.ts";
import type { ServiceCheck, ServiceRegistration } from "../consul/types.ts";
import { goDurationNanos } from "./go-duration.ts";
import { isOn, type PortKeys, type Warn } from "./service-keys.ts";

/** Where the checked port answers. `host` undefined: the agent's node address, unknown to berth. */
export type CheckTarget = { host: string | undefined; port: number; containerId: string; containerPort: number };

export const DEFAULT_INTERVAL = "10s";
/** A check needs an address; when berth does not know the node's, it checks the agent's own host. */
export const FALLBACK_CHECK_HOST = "127.0.0.1";
const STATUSES = ["passing", "warning", "critical"] as const;
/** Go's time.ParseDuration without sign; `0` alone is not accepted (a check needs a positive duration). */
const GO_DURATION = /^(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/;

/**
 * A duration the agent takes: Go syntax, more than 0 ns once parsed (`0.5ns` is 0, and Consul refuses
 * a zero Interval or TTL), and within Go's time.Duration (`3000000h` overflows it, and Consul answers
 * 400 for the whole registration). Anything else is dropped with a warning.
 */
function duration(keys: PortKeys, key: string, warn: Warn): string | undefined {
  const given = keys.get(key)?.value.trim();
  if (given === undefined) return undefined;
  const nanos = GO_DURATION.test(given) ? goDurationNanos(given) : 0n;
  if (nanos !== undefined && nanos > 0n) return given;
  if (nanos === undefined) {
    warn(`SERVICE_${key.toUpperCase()}="${given}" is longer than Consul accepts (Go's limit: 2562047h47m16.854775807s): ignored`);
  } else warn(`SERVICE_${key.toUpperCase()}="${given}" is not a positive duration such as 10s or 1m30s: ignored`);
  return undefined;
}

function status(keys: PortKeys, warn: Warn): ServiceCheck["Status"] {
  const given = keys.get("check_initial_status")?.value.trim();
  if (given === undefined) return undefined;
  const found = STATUSES.find((s) => s === given);
  if (!found) warn(`SERVICE_CHECK_INITIAL_STATUS="${given}" is not passing, warning or critical: ignored`);
  return found;
}

const LOOPBACK = /^(?:127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost)$/i;
const isLoopback = (host: string) => LOOPBACK.test(host);
/** Why a check at a loopback address may never pass: the agent runs it, from its own network namespace. */
const LOOPBACK_RULE =
  "the node's Consul agent runs the check from its own network namespace, so it passes only if that agent shares this host's (network_mode: host)";

const hostPort = (host: string, port: number) => (host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`);

/**
 * Every check the keys ask for, in registrator's precedence order (HTTP, HTTPS, cmd, script, TTL,
 * TCP, gRPC): one goes to `Check`, several to `Checks`. Interval (default 10s), timeout, initial
 * status and deregister-after apply to each; invalid values are dropped with a warning, so the
 * agent never rejects the whole registration for them. IPv6 hosts are bracketed.
 */
export function checksFor(keys: PortKeys, target: CheckTarget, warn: Warn): Pick<ServiceRegistration, "Check" | "Checks"> {
  const value = (key: string) => keys.get(key)?.value;
  const host = target.host ?? FALLBACK_CHECK_HOST;
  const address = hostPort(host, target.port);
  const fields = checkFieldsFor(keys, warn);
  const kinds: ServiceCheck[] = [];
  const http = value("check_http");
  if (http !== undefined) {
    const method = value("check_http_method");
    kinds.push({ HTTP: `http://${address}${http}`, ...(method ? { Method: method } : {}), ...fields.http });
  }
  const https = value("check_https");
  if (https !== undefined) {
    const method = value("check_https_method");
    const skip = isOn(keys, "check_tls_skip_verify", warn);
    kinds.push({
      HTTP: `https://${address}${https}`,
      ...(method ? { Method: method } : {}),
      ...fields.http,
      ...(skip ? { TLSSkipVerify: true } : {}),
      ...fields.tls,
    });
  }
  const cmd = value("check_cmd");
  if (cmd !== undefined) kinds.push({ Args: ["check-cmd", target.containerId.slice(0, 12), String(target.containerPort), cmd] });
  const script = value("check_script");
  if (script !== undefined) {
    kinds.push({ Args: ["sh", "-c", script.replaceAll("$SERVICE_IP", host).replaceAll("$SERVICE_PORT", String(target.port))] });
  }
  if (value("check_ttl") !== undefined) {
    const ttl = duration(keys, "check_ttl", warn);
    if (ttl) kinds.push({ TTL: ttl });
  }
  if (isOn(keys, "check_tcp", warn)) kinds.push({ TCP: address });
  if (isOn(keys, "check_grpc", warn)) {
    const tls = isOn(keys, "check_grpc_use_tls", warn);
    const skip = tls && isOn(keys, "check_tls_skip_verify", warn);
    kinds.push({
      GRPC: address,
      ...(tls ? { GRPCUseTLS: true } : {}),
      ...(skip ? { TLSSkipVerify: true } : {}),
      ...(tls ? fields.tls : {}),
    });
  }
  if (kinds.length === 0) return {};
  if (kinds.some((k) => !k.TTL)) {
    if (target.host === undefined)
      warn(`no address known for the check (set BERTH_HOST_IP): it targets ${FALLBACK_CHECK_HOST}, ${LOOPBACK_RULE}`);
    else if (isLoopback(target.host)) warn(`the check targets ${address}, a loopback address: ${LOOPBACK_RULE}`);
  }
  const interval = duration(keys, "check_interval", warn) ?? DEFAULT_INTERVAL;
  const timeout = duration(keys, "check_timeout", warn);
  const initial = status(keys, warn);
  const deregister = duration(keys, "check_deregister_after", warn);
  const checks = kinds.map((k) => ({
    ...k,
    ...(k.TTL ? {} : { Interval: interval, ...(timeout ? { Timeout: timeout } : {}) }),
    ...(initial ? { Status: initial } : {}),
    ...(deregister ? { DeregisterCriticalServiceAfter: deregister } : {}),
    ...(k.TTL ? {} : fields.counts),
  }));
  return checks.length === 1 ? { Check: checks[0]! } : { Checks: checks };
}
