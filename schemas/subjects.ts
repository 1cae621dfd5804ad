import { isValidNodeName } from "./patterns.ts";
import type { BerthEvent } from "./validate.ts";

/** The only place subject strings are built or read. Layout: `<prefix>.v1.<node>.<kind>.<action>`. */
export const DEFAULT_PREFIX = "berth";

/** `io.berth.container.started` → `container.started`; `io.berth.node.snapshot` → `node.snapshot`. */
export function kindOf(type: BerthEvent["type"]): string {
  return type.slice("io.berth.".length);
}

export function subjectFor(prefix: string, event: BerthEvent): string {
  return `${prefix}.v1.${event.data.node.name}.${kindOf(event.type)}`;
}

/** Every node's events (5 tokens); dead letters have 4 tokens and so never match. */
export function eventSubjects(prefix: string): string {
  return `${prefix}.v1.*.*.*`;
}

export function deadLetterSubject(prefix: string, reason: string): string {
  return `${prefix}.v1.dlq.${reason}`;
}

export function deadLetterSubjects(prefix: string): string {
  return `${prefix}.v1.dlq.*`;
}

/** A node whose agent could not take its changes: the handlers repair it from the state bucket (4 tokens). */
export function repairSubject(prefix: string, node: string): string {
  return `${prefix}.v1.repair.${node}`;
}

export function repairSubjects(prefix: string): string {
  return `${prefix}.v1.repair.*`;
}

/** The node a repair subject names; undefined when it is not one. */
export function nodeOfRepairSubject(prefix: string, subject: string): string | undefined {
  const tokens = subject.split(".");
  const node = tokens[3];
  return tokens.length === 4 &&
    tokens[0] === prefix &&
    tokens[1] === "v1" &&
    tokens[2] === "repair" &&
    node !== undefined &&
    isValidNodeName(node)
    ? node
    : undefined;
}

export type ParsedSubject = { node: string; kind: string };

/** Reads an event subject back; undefined when it is not one of ours. */
export function parseSubject(prefix: string, subject: string): ParsedSubject | undefined {
  const tokens = subject.split(".");
  if (tokens.length !== 5 || tokens[0] !== prefix || tokens[1] !== "v1") return undefined;
  const [, , node, kind, action] = tokens as [string, string, string, string, string];
  return isValidNodeName(node) ? { node, kind: `${kind}.${action}` } : undefined;
}

/** JetStream stream, consumer and KV names derived from the prefix, so installations can share a server. */
export function streamNames(prefix: string) {
  const p = prefix.toUpperCase().replaceAll("-", "_");
  return {
    events: `${p}_EVENTS`,
    deadLetters: `${p}_DLQ`,
    consumer: `${p}_handlers`,
    state: `${p}_containers`,
    repairs: `${p}_REPAIRS`,
    repairConsumer: `${p}_repairs`,
  };
}
