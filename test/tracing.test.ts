// A trace per registration: the emitter and a handler export their spans over OTLP/HTTP JSON to a
// collector the test runs (test/otlp-receiver.ts), named by OTEL_EXPORTER_OTLP_ENDPOINT. One
// container's start is one trace: the emitter's spans (Docker's event read, the inspect, the publish)
// and the handler's (decode, the state's record, the agent's register call, the re-read), each linked
// to its parent through the event's `traceparent`.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { cleanupAll, registerCleanup } from "./harness/cleanup.ts";
import { waitFor } from "./harness/wait.ts";
import { startOtlpReceiver, type ReceivedSpan } from "./otlp-receiver.ts";
import { startPipeline, type Pipeline } from "./pipeline/index.ts";

const NODE = "trace1";

describe("tracing", () => {
  let p: Pipeline;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;

  before(async () => {
    receiver = await startOtlpReceiver();
    registerCleanup("otlp receiver", () => receiver.close());
    p = await startPipeline({
      prefix: "trace",
      nodes: [{ name: NODE, ip: "127.0.0.43", engine: "docker" }],
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: "100" },
    });
  });
  after(cleanupAll);

  test("tracing - one container's start is one trace: the emitter's spans and the handler's, parent-linked, with the agent call's duration", async (t) => {
    if (!p.ready(t)) return;
    const id = await p.run(NODE, "-e", "SERVICE_NAME=traced");
    await waitFor(() => Object.values(p.agent(NODE).services()).some((s) => s.Meta["berth_container"] === id), { what: "registered" });
    const ofContainer = () => receiver.spans.filter((s) => s.attributes["container.id"] === id);
    const roots = await waitFor(
      () => {
        const emit = ofContainer().find(
          (s) => s.name === "berth emit" && s.attributes["cloudevents.event_type"] === "io.berth.container.started",
        );
        const apply = ofContainer().find(
          (s) => s.name === "berth apply" && s.attributes["cloudevents.event_type"] === "io.berth.container.started",
        );
        return emit && apply && { emit, apply };
      },
      { what: "the emitter's and the handler's spans of the start exported" },
    );
    const trace = await waitFor(
      () => {
        const all = receiver.spans.filter((s) => s.traceId === roots.emit.traceId);
        return all.some((s) => s.name === "consul register") && all.some((s) => s.name === "state re-read") && all;
      },
      { what: "every span of the trace exported" },
    );
    const byName = (name: string): ReceivedSpan => {
      const found = trace.filter((s) => s.name === name);
      assert.equal(found.length, 1, `one ${name} span: ${trace.map((s) => s.name).join(", ")}`);
      return found[0]!;
    };
    const emit = byName("berth emit");
    const publish = byName("nats publish");
    const apply = byName("berth apply");
    const register = byName("consul register");
    assert.equal(apply.traceId, emit.traceId, "the handler continued the emitter's trace");
    assert.deepEqual(
      Object.fromEntries(trace.map((s) => [s.name, [s.service, trace.find((x) => x.spanId === s.parentSpanId)?.name ?? null]])),
      {
        "berth emit": ["berth-emitter", null],
        "docker event read": ["berth-emitter", "berth emit"],
        "docker inspect": ["berth-emitter", "berth emit"],
        "nats publish": ["berth-emitter", "berth emit"],
        "berth apply": ["berth-handler", "nats publish"],
        decode: ["berth-handler", "berth apply"],
        "state record": ["berth-handler", "berth apply"],
        "consul register": ["berth-handler", "berth apply"],
        "state re-read": ["berth-handler", "berth apply"],
      },
      "each span's service and parent",
    );
    assert.equal(emit.parentSpanId, "", "the emitter's span is the trace's root");
    assert.deepEqual([publish.kind, apply.kind, register.kind], [4, 5, 3], "producer, consumer, client");
    assert.ok(register.end > register.start, "the agent call has a duration");
    assert.ok(register.start >= apply.start && register.end <= apply.end, "the agent call lies within the handler's span");
    assert.ok(apply.start >= publish.start, "the handler's span starts after the publish began");
    assert.equal(
      register.attributes["consul.service.id"],
      Object.keys(p.agent(NODE).services()).find((k) => p.agent(NODE).services()[k]!.Meta["berth_container"] === id),
    );
    for (const s of trace) assert.ok(s.end >= s.start && s.status?.code !== 2, `${s.name}: ended, not failed`);
    assert.ok(receiver.requests.every((r) => r.path === "/v1/traces" && r.contentType === "application/json"));
  });
});
