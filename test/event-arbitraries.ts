// fast-check generators of wire messages for the property tests: valid container events, single
// mutations of them (near-valid), and hostile bytes; plus a handler whose outcomes are recorded.
import fc from "fast-check";
import { handleMessage } from "../handler/consume.ts";
import { deadLetterBody, type DeadLetterReason } from "../handler/dead-letter.ts";
import { CONTAINER_EVENT_TYPES, subjectFor, type ContainerEvent } from "../schemas/index.ts";
import { bytesOf, event, handlerDeps, memoryAgent, message } from "./builders.ts";

const KNOWN_NODES = ["node1", "node2"];
const oneLine = (max: number) =>
  fc.string({ unit: "binary", minLength: 1, maxLength: max }).filter((s) => !/[\p{Cc}\u2028\u2029]/u.test(s));
const serviceKey = fc.oneof(
  fc.constantFrom(
    "SERVICE_NAME",
    "SERVICE_TAGS",
    "SERVICE_ID",
    "SERVICE_IGNORE",
    "SERVICE_CHECK_HTTP",
    "SERVICE_CHECK_INTERVAL",
    "SERVICE_CHECK_TTL",
    "SERVICE_80_NAME",
    "SERVICE_8080_TAGS",
  ),
  oneLine(40).map((k) => `SERVICE_${k}`),
);
const serviceValue = fc.oneof(
  fc.string({ unit: "binary", maxLength: 64 }),
  fc.constantFrom("", "true", "false", "10s", "-1", "a,b,,c", "http://$SERVICE_IP:$SERVICE_PORT/"),
);
const port = fc.record(
  {
    containerPort: fc.integer({ min: 0, max: 65535 }),
    protocol: fc.constantFrom("tcp" as const, "udp" as const, "sctp" as const),
    hostPort: fc.integer({ min: 1, max: 65535 }),
    hostIp: fc.constantFrom("0.0.0.0", "127.0.0.1", "::", "fd00::1", ""),
  },
  { requiredKeys: ["containerPort", "protocol"] },
);

/** Events a correct emitter could publish, for the nodes this handler has agents for. */
export const validEvent: fc.Arbitrary<ContainerEvent> = fc
  .record({
    type: fc.constantFrom(...CONTAINER_EVENT_TYPES),
    node: fc.constantFrom(...KNOWN_NODES),
    timeNano: fc.bigInt({ min: 0n, max: 10n ** 19n }),
    id: fc.stringMatching(/^[0-9a-f]{64}$/),
    name: oneLine(60),
    image: fc.string({ unit: "binary", maxLength: 80 }),
    ports: fc.array(port, { maxLength: 4 }),
    env: fc.dictionary(serviceKey, serviceValue, { maxKeys: 8 }),
    labels: fc.dictionary(oneLine(30), serviceValue, { maxKeys: 4 }),
  })
  .map(({ type, node, timeNano, ...container }) => event({ type, node, timeNano, container }));

/** Paths of the contract's required fields: removing any one makes the event invalid. */
const REQUIRED = [
  ["specversion"],
  ["id"],
  ["source"],
  ["type"],
  ["subject"],
  ["time"],
  ["data"],
  ["data", "node"],
  ["data", "node", "name"],
  ["data", "timeNano"],
  ["data", "container"],
  ["data", "container", "id"],
  ["data", "container", "name"],
];
const STRINGS = [["id"], ["time"], ["data", "container", "name"], ["data", "container", "image"], ["data", "node", "hostIp"]];
const OBJECTS = [[], ["data"], ["data", "node"], ["data", "container"], ["data", "container", "env"]];

type Json = Record<string, unknown>;
const at = (root: Json, path: string[]): Json => path.reduce<Json>((o, k) => o[k] as Json, root);
const setOwn = (o: Json, key: string, value: unknown) =>
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });

/** One mutation of a valid event, and the dead-letter reason it must get (`applied`: it must be applied; undefined: it may still be valid). */
export type Mutated = { subject: string; bytes: Uint8Array; expect: DeadLetterReason | "applied" | undefined; what: string };

export const nearValid: fc.Arbitrary<Mutated> = fc
  .tuple(
    validEvent,
    fc.nat(),
    fc.anything({ maxDepth: 2 }),
    fc.constantFrom("__proto__", "constructor", "prototype", "extra"),
    fc.integer({ min: 257, max: 8192 }),
  )
  .chain(([e, pick, junk, key, long]) =>
    fc.constantFrom(
      ...(["drop", "retype", "extra", "long", "other-node", "unknown-node", "type-subject"] as const).map((kind) => ({
        kind,
        e,
        pick,
        junk,
        key,
        long,
      })),
    ),
  )
  .map(({ kind, e, pick, junk, key, long }): Mutated => {
    const o = JSON.parse(JSON.stringify(e)) as Json;
    const subject = subjectFor("berth", e);
    const path = <T>(list: T[]) => list[pick % list.length]!;
    if (kind === "drop") {
      const p = path(REQUIRED);
      Reflect.deleteProperty(at(o, p.slice(0, -1)), p.at(-1)!);
      return { subject, bytes: bytesOf(o), expect: "schema", what: `drop ${p.join(".")}` };
    }
    if (kind === "retype") {
      const p = path(STRINGS);
      at(o, p.slice(0, -1))[p.at(-1)!] = junk;
      // JSON has no undefined: the field is then absent, which the optional ones may be.
      return {
        subject,
        bytes: bytesOf(o),
        expect: typeof junk === "string" || junk === undefined ? undefined : "schema",
        what: `retype ${p.join(".")}`,
      };
    }
    if (kind === "extra") {
      const where = path(OBJECTS);
      setOwn(at(o, where), key, { polluted: "yes" });
      // A record ignores a field it does not know (schemas/open.ts); but no CloudEvents attribute
      // holds an object, and env accepts SERVICE_* keys only.
      const refused = where.length === 0 || where.at(-1) === "env";
      return { subject, bytes: bytesOf(o), expect: refused ? "schema" : "applied", what: `extra ${key} in /${where.join("/")}` };
    }
    if (kind === "long") {
      const p = path(STRINGS.slice(0, 3));
      at(o, p.slice(0, -1))[p.at(-1)!] = "x".repeat(long);
      return { subject, bytes: bytesOf(o), expect: "schema", what: `long ${p.join(".")}` };
    }
    if (kind === "other-node")
      return { subject: subject.replace(`.${e.data.node.name}.`, ".node9."), bytes: bytesOf(o), expect: "subject-mismatch", what: kind };
    if (kind === "type-subject")
      return {
        subject: `berth.v1.${e.data.node.name}.container.${e.type.endsWith("started") ? "stopped" : "started"}`,
        bytes: bytesOf(o),
        expect: "subject-mismatch",
        what: kind,
      };
    const forged = event({ node: "node9", container: e.data.container });
    return { subject: subjectFor("berth", forged), bytes: bytesOf(forged), expect: "unknown-node", what: kind };
  });

/** A handler with a memory bucket and agent; every settlement and dead letter is recorded. */
export function recordingHandler() {
  const agent = memoryAgent();
  const letters: { reason: DeadLetterReason; problems: string[]; bytes: number }[] = [];
  const { deps } = handlerDeps(agent, {
    agentFor: (node) => (KNOWN_NODES.includes(node) ? agent : undefined),
    deadLetter(msg, reason, problems) {
      letters.push({ reason, problems, bytes: deadLetterBody(msg, reason, problems).byteLength });
      return Promise.resolve();
    },
  });
  return {
    agent,
    /** Handles one message: its settlement and the dead letter it produced, if any. */
    async send(subject: string, bytes: Uint8Array) {
      const before = letters.length;
      const { msg, settled } = message(subject, bytes);
      await handleMessage(deps, msg);
      return { ...settled, letter: letters.length > before ? letters.at(-1) : undefined, letters: letters.length - before };
    },
  };
}

/** fc.assert options that report a failure by its message and a short view of the input (inputs can be 1 MiB). */
export function briefly(numRuns: number): fc.Parameters<unknown[]> {
  return {
    numRuns,
    plugins: [
      () => ({
        onAllRunsComplete(details) {
          if (!details.failed) return;
          const input = JSON.stringify(details.counterexample, (_, v: unknown) =>
            v instanceof Uint8Array ? Buffer.from(v).toString("latin1") : v,
          );
          throw new Error(
            `property failed (seed ${details.seed}, path ${details.counterexamplePath}): ${details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance)}\ninput (${input.length} chars): ${input.slice(0, 400)}`,
          );
        },
      }),
    ],
  };
}
