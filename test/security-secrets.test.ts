// Container secrets stay on the host (DESIGN.md §3): only SERVICE_* environment variables leave
// it, and labels only under SERVICE_*, com.docker.compose.* and BERTH_LABEL_PREFIXES. Real parts:
// a private dockerd, a nats-server, an emitter and a handler process at trace level, an agent
// double whose ACL refuses one service (so a dead letter about a secret-holding container exists).
// A subscription to `>` sees every message on the server for the whole run: events, KV writes,
// JetStream API traffic, deliveries, acks, dead letters. The secrets must appear nowhere in it, in
// no log line, no dead letter and no agent request, while the shared values do (the capture works).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { createLogger } from "../common/log.ts";
import type { Bus } from "../common/nats/index.ts";
import { readDeadLetters } from "./dead-letters.ts";
import { eventPublisher } from "../emitter/publish.ts";
import { event } from "./builders.ts";
import { cleanupAll } from "./harness/cleanup.ts";
import { TEST_IMAGE } from "./harness/image.ts";
import { waitFor } from "./harness/wait.ts";
import { startPipeline, type Pipeline } from "./pipeline/index.ts";

const PREFIX = "sec";
const NODE = "sec1";
const random = (what: string) => `${what}${randomBytes(10).toString("hex")}`;
/** What must never leave the host. */
const SECRETS = {
  envPassword: random("envpw"), // SECRET_PASSWORD=…
  envUrl: random("envurl"), // DATABASE_URL=postgres://app:…@db/app
  envLookalike: random("envlike"), // MY_SERVICE_TOKEN=… (SERVICE_ inside the name, not its prefix)
  label: random("labelpw"), // db.password=… (a label under no shared prefix)
  labelLookalike: random("labellike"), // x.SERVICE_KEY=…
  command: random("cmdpw"), // an argument of the container's command
};
/** What must leave it (positive controls). */
const SHARED = { tag: random("tag"), owner: random("owner"), team: random("team"), project: random("proj") };
const TOKEN = random("acltoken");

/** `docker run` flags giving a container every secret beside its SERVICE_* keys and shared labels. */
const secretFlags = (name: string) => [
  "-e",
  `SERVICE_NAME=${name}`,
  "-e",
  `SERVICE_TAGS=${SHARED.tag}`,
  "-e",
  `SECRET_PASSWORD=${SECRETS.envPassword}`,
  "-e",
  `DATABASE_URL=postgres://app:${SECRETS.envUrl}@db/app`,
  "-e",
  `MY_SERVICE_TOKEN=${SECRETS.envLookalike}`,
  "--label",
  `db.password=${SECRETS.label}`,
  "--label",
  `x.SERVICE_KEY=${SECRETS.labelLookalike}`,
  "--label",
  `SERVICE_OWNER=${SHARED.owner}`,
  "--label",
  `app.team=${SHARED.team}`,
  "--label",
  `com.docker.compose.project=${SHARED.project}`,
];

describe("security: container secrets stay on the host", () => {
  let p: Pipeline;
  /** Every message the server carried while the test ran, as text: subject, headers, payload. */
  const wire: string[] = [];
  const subjects = new Set<string>();

  before(async () => {
    // The token may write only "secweb": "denied" is refused with Consul's 403, which dead-letters its event.
    const acl = {
      defaultPolicy: "deny" as const,
      tokens: { [TOKEN]: { accessorId: "a-1", serviceWrite: ["secweb"], serviceRead: ["*"] } },
    };
    // The emitter and the handler start once the watch below listens: they are started by hand, not with the pipeline.
    p = await startPipeline({
      prefix: PREFIX,
      nodes: [{ name: NODE, ip: "127.0.0.62", engine: "docker", agent: { acl }, emitter: { deferred: true } }],
      handlers: 0,
      env: { LOG_LEVEL: "trace" },
      emitterEnv: { BERTH_LABEL_PREFIXES: "app." },
      resyncSeconds: 1,
      handlerEnv: { CONSUL_HTTP_TOKEN: TOKEN },
      bus: true,
    });
    if (!p.started) return;
    const everything = p.bus.nc.subscribe(">");
    void (async () => {
      for await (const m of everything) {
        subjects.add(m.subject.split(".").slice(0, 3).join("."));
        // eslint-disable-next-line @typescript-eslint/no-base-to-string -- MsgHdrs's typing leaves out toString(); the runtime headers print the NATS/1.0 header block
        wire.push(`${m.subject} ${m.headers?.toString() ?? ""} ${new TextDecoder().decode(m.data)}`);
      }
    })();
    await Promise.all([p.startEmitter(NODE), p.startHandler()]);
  });
  after(cleanupAll);
  const emitter = () => p.emitter(NODE);
  const handler = () => p.handlers[0]!;
  const agent = () => p.agent(NODE);

  test("secrets - the emitter's dead letter of an event the schema refused for a non-SERVICE_ variable leaves that variable out", async () => {
    // The schema's ^SERVICE_ rule on env keys is the second line behind the emitter's filter.
    const sent: { subject: string; text: string }[] = [];
    const fakeBus = {
      prefix: PREFIX,
      onDenied: () => () => undefined,
      js: {
        publish: (subject: string, data: Uint8Array) => {
          sent.push({ subject, text: new TextDecoder().decode(data) });
          return Promise.resolve();
        },
      },
    } as unknown as Bus;
    const leaky = event({
      node: NODE,
      container: { env: { SERVICE_NAME: "web", SERVICE_TAGS: SHARED.tag, SECRET_PASSWORD: SECRETS.envPassword } },
    });
    await eventPublisher(fakeBus, createLogger("emitter", "silent"), new AbortController().signal)(leaky);
    assert.deepEqual(
      sent.map((s) => s.subject),
      [`${PREFIX}.v1.dlq.schema`],
      "dead-lettered, not published",
    );
    assert.ok(!sent[0]!.text.includes(SECRETS.envPassword), sent[0]!.text);
    assert.ok(sent[0]!.text.includes(SHARED.tag), "the rest of the event is kept for diagnosis");
  });

  test("secrets - env and labels outside the shared prefixes reach no message, log line, dead letter or agent", async (t) => {
    if (!p.ready(t)) return;
    const run = (name: string, ...extra: string[]) =>
      p.docker(
        NODE,
        "run",
        "-d",
        "--pull=never",
        "--name",
        name,
        "-p",
        "8080",
        ...extra,
        ...secretFlags(name),
        TEST_IMAGE,
        "/serve",
        `--password=${SECRETS.command}`,
      );
    let web = "";
    let letters: string[] = [];
    const captured = () => ({
      "the NATS bus": wire.join("\n"),
      "the dead letters": letters.join("\n"),
      "the emitter's log":
        emitter()
          .logs.map((l) => JSON.stringify(l))
          .join("\n") + emitter().stderr.join("\n"),
      "the handler's log":
        handler()
          .logs.map((l) => JSON.stringify(l))
          .join("\n") + handler().stderr.join("\n"),
      "the agent's requests": agent()
        .requests.map((r) => `${r.method} ${r.path}?${r.query} ${r.body ?? ""}`)
        .join("\n"),
    });
    try {
      web = await run("secweb");
      await run("denied");
      const owned = () => Object.values(agent().services()).filter((s) => s.Meta["berth_container"] === web);
      await waitFor(() => owned().length === 1, { what: "secweb registered", timeoutMs: 30_000 });
      await handler().waitForLog(
        (l) => l.msg === "dead-lettered" && l["reason"] === "agent-rejected",
        "denied's event dead-lettered",
        30_000,
      );
      // A container gone before its die is inspected: what is shared then comes from the Docker event's attributes (all labels).
      await run("brief", "--rm");
      await emitter().waitForLog((l) => l.msg === "published" && l["name"] === "brief", "brief started", 30_000);
      await p.docker(NODE, "kill", "brief");
      await p.docker(NODE, "stop", "-t", "5", "secweb");
      await waitFor(() => owned().length === 0, { what: "secweb deregistered", timeoutMs: 30_000 });
      await waitFor(() => emitter().logs.filter((l) => l.msg === "published" && l["name"] === "brief").length >= 2, {
        what: "brief's stop published",
        timeoutMs: 30_000,
      });
      await p.docker(NODE, "rm", "-f", "denied");
      await handler().waitForLog(
        (l) => l.msg === "applied" && l["type"] === "io.berth.container.stopped" && l["container"] !== web,
        "denied's removal applied",
        30_000,
      );
    } finally {
      // Also when the run got stuck: a leak is the finding that matters most.
      letters = (await readDeadLetters(p.bus, 100)).map((m) => `${m.subject} ${new TextDecoder().decode(m.data)}`);
      for (const [where, text] of Object.entries(captured())) {
        for (const [name, value] of Object.entries(SECRETS)) assert.ok(!text.includes(value), `secret ${name} found in ${where}`);
      }
    }
    const texts = captured();
    t.diagnostic(
      `captured: ${Object.entries(texts)
        .map(([k, v]) => `${k} ${v.length} chars`)
        .join(", ")}; ${wire.length} messages on subjects ${[...subjects].sort().join(" ")}`,
    );
    // Positive controls: the capture is real and the shared values did travel.
    for (const value of Object.values(SHARED)) assert.ok(texts["the NATS bus"].includes(value), `shared value ${value} on the bus`);
    for (const value of [SHARED.tag, SHARED.owner, SHARED.team])
      assert.ok(texts["the dead letters"].includes(value), `${value} in the dead letter`);
    assert.ok(
      texts["the agent's requests"].includes(SHARED.tag) && texts["the agent's requests"].includes(SHARED.owner),
      "tags and Meta reached the agent",
    );
    for (const kinds of [`${PREFIX}.v1.${NODE}`, `${PREFIX}.v1.dlq`, "$KV.SEC_containers", "$JS.API.CONSUMER"])
      assert.ok(
        [...subjects].some((s) => s.startsWith(kinds)),
        `saw ${kinds}…`,
      );
    assert.ok(
      letters.some((l) => l.includes('"reason":"agent-rejected"') && l.includes("denied")),
      "the dead letter concerns the container",
    );
    assert.match(texts["the handler's log"], new RegExp(web));
    assert.match(texts["the emitter's log"], /"name":"brief"/);
  });
});
