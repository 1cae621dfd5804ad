// Variables that look like berth's but are none it reads: a slip of one letter
// (BERTH_CONSUL_AGENT for BERTH_CONSUL_AGENTS) must not pass in silence while every event waits
// for a default. Told at start-up with the closest name berth does read.
import { ENV_NAMES } from "./env-validators.generated.ts";

/** berth's own namespace: every name in it that berth does not read is a mistake. */
const OWN = /^BERTH_/;
/** Namespaces berth shares with other tools (the docker CLI, Consul's, NATS's): only a near miss is told. */
const SHARED = /^(NATS|CONSUL|DOCKER)_/;
const NEAR_MISS = 2;

/** Names other tools read that berth users set expecting berth to: what berth reads instead. */
const INSTEAD: Record<string, string> = {
  CONSUL_HTTP_ADDR: "BERTH_CONSUL_AGENTS or BERTH_CONSUL_AGENT_TEMPLATE",
  CONSUL_ADDR: "BERTH_CONSUL_AGENTS or BERTH_CONSUL_AGENT_TEMPLATE",
  NATS_SERVERS: "NATS_URL",
};

/** Levenshtein distance, with a swap of two neighbours counted as one edit. */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = rows[i]!;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, rows[i - 2]![j - 2]! + 1);
    }
  }
  return rows[a.length]![b.length]!;
}

export type StrangerVariable = { variable: string; closest?: string; text: string };

/** The variables of `env` that look like berth's and are none it reads, each with the closest it does read. */
export function strangerVariables(env: NodeJS.ProcessEnv, known: readonly string[] = ENV_NAMES): StrangerVariable[] {
  const found: StrangerVariable[] = [];
  for (const variable of Object.keys(env).sort()) {
    if (known.includes(variable) || !(OWN.test(variable) || SHARED.test(variable))) continue;
    const [closest, distance] = known
      .map((name) => [name, editDistance(variable, name)] as const)
      .reduce<readonly [string, number]>((best, next) => (next[1] < best[1] ? next : best), ["", Infinity]);
    const instead = INSTEAD[variable];
    const near = distance <= Math.max(NEAR_MISS, Math.floor(variable.length / 4));
    if (!OWN.test(variable) && instead === undefined && distance > NEAR_MISS) continue;
    const suggestion = instead ?? (near ? closest : undefined);
    found.push({
      variable,
      ...(suggestion !== undefined ? { closest: suggestion } : {}),
      text: `${variable} is not a variable berth reads${suggestion !== undefined ? `; did you mean ${suggestion}?` : ""}`,
    });
  }
  return found;
}
