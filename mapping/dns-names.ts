// Names Consul's DNS interface cannot serve: Consul registers them all the same, and its agent
// warns in its own log — berth says so where its users look (the handler's log, `berth explain`).
// The rule and the words are the agent's (agent/agent.go, dns.InvalidNameRe and MaxLabelLength):
// a character other than a letter, digit, `-` (or `\`, which the agent's expression also lets
// through), or more than 63 bytes.
import { clipText } from "../schemas/errors.ts";

const INVALID_DNS = /[^A-Za-z0-9\\-]/;
const MAX_LABEL_BYTES = 63;
/** A 500-character name is quoted cut, not whole. */
const QUOTED_MAX = 80;

/** Consul's warning for `name`, or undefined when its DNS can serve it. */
export function dnsNameWarning(name: string): string | undefined {
  const quoted = `service name "${clipText(name, QUOTED_MAX)}"`;
  if (INVALID_DNS.test(name))
    return `${quoted} will not be discoverable via DNS due to invalid characters. Valid characters include all alpha-numerics and dashes.`;
  if (Buffer.byteLength(name, "utf8") > MAX_LABEL_BYTES)
    return `${quoted} will not be discoverable via DNS due to it being too long. Valid lengths are between 1 and 63 bytes.`;
  return undefined;
}

/** One warning per distinct name among `names` that Consul's DNS cannot serve. */
export function dnsNameWarnings(names: Iterable<string>): string[] {
  return [...new Set(names)].map(dnsNameWarning).filter((w) => w !== undefined);
}
