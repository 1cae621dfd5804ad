// Secrets never printed: every log line (common/log.ts), configuration error, fatal error, agent
// answer (consul/client.ts) and status text goes through redactText.

const CENSOR = "[redacted]";
/** `scheme://user:password@` (and `scheme://token@`): the part before `@` is a credential. */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/\s@"',]+@/gi;
/** Shorter values are not treated as secrets: censoring `a` everywhere would destroy every line. */
const MIN_SECRET_LENGTH = 4;

/** Each secret, and its JSON-escaped form when that differs (a secret with `"` or `\` inside a JSON line). */
const secrets = new Map<string, string | undefined>();

/** Remembers a secret this process holds (a token, a password): it is censored wherever it appears. */
export function registerSecret(value: string | undefined): void {
  const trimmed = value?.trim();
  if (trimmed === undefined || trimmed.length < MIN_SECRET_LENGTH || secrets.has(trimmed)) return;
  const escaped = JSON.stringify(trimmed).slice(1, -1);
  secrets.set(trimmed, escaped === trimmed ? undefined : escaped);
}

/** Credentials in URLs replaced; every registered secret replaced, also JSON-escaped. */
export function redactText(text: string): string {
  let out = text.includes("@") ? text.replace(URL_USERINFO, `$1${CENSOR}@`) : text;
  for (const [secret, escaped] of secrets) {
    if (out.includes(secret)) out = out.replaceAll(secret, CENSOR);
    if (escaped !== undefined && out.includes(escaped)) out = out.replaceAll(escaped, CENSOR);
  }
  return out;
}

/** A URL (or a comma-separated list of URLs) without the credentials it may carry. */
export function redactUrl(text: string): string {
  return text.replace(URL_USERINFO, `$1${CENSOR}@`);
}
