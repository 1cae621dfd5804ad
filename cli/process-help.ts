// `berth emitter --help`, `berth handler --help`: what the process does and every variable it
// reads, with its meaning, default and allowed values, from the declared env schemas — the same
// that check the variables at start-up. Nothing is started.
import type { EnvSchema } from "../common/config.ts";
import { emitterEnv } from "../emitter/config.ts";
import { handlerEnv } from "../handler/config.ts";

const ABOUT = {
  emitter:
    "The emitter of this host: follows the Docker engine at DOCKER_HOST and publishes each container's\nstart and stop to NATS JetStream. One per host.",
  handler: "A handler worker: applies the events on NATS JetStream to the Consul agent of each container's node.\nRun as many as you like.",
} as const;

type Property = { description?: string; default?: unknown; enum?: readonly unknown[]; type?: string; minimum?: number; maximum?: number };

function describe(name: string, p: Property): string {
  const facts = [
    p.enum ? `one of ${p.enum.join(", ")}` : undefined,
    p.minimum !== undefined && p.maximum !== undefined ? `${p.minimum} to ${p.maximum}` : undefined,
    p.default !== undefined && p.default !== "" ? `default: ${JSON.stringify(p.default).replace(/^"|"$/g, "")}` : undefined,
  ].filter((f) => f !== undefined);
  return `  ${name}\n      ${p.description ?? ""}${facts.length > 0 ? ` (${facts.join("; ")})` : ""}\n`;
}

export function processHelp(kind: keyof typeof ABOUT): string {
  const schema: EnvSchema<unknown> = kind === "emitter" ? emitterEnv : handlerEnv;
  const variables = Object.entries(schema.properties).map(([name, p]) => describe(name, p as Property));
  return `usage: berth ${kind}

${ABOUT[kind]}
Configured only by environment variables, checked at start-up (exit 2 with every problem found).
Runs until SIGTERM or SIGINT, then hands back what it holds and exits 0.

Environment:
${variables.join("")}`;
}
