// Tracing's settings (OpenTelemetry's variables), W3C trace context, sampling, the OTLP export, and
// that a process without the variables loads nothing of the recorder or the exporter.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, describe, test } from "node:test";
import { NO_TRACER, loadTracer, parseTraceparent } from "../common/tracing/index.ts";
import { tracingSettings } from "../common/tracing/settings.ts";
import { waitFor } from "./harness/wait.ts";
import { startOtlpReceiver } from "./otlp-receiver.ts";

const PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
const quiet = () => undefined;

describe("tracing settings", () => {
  test("tracing settings - off without an endpoint, with OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none", () => {
    assert.equal(tracingSettings({}, "berth-handler"), undefined);
    assert.equal(tracingSettings({ OTEL_SERVICE_NAME: "x", OTEL_TRACES_SAMPLER: "always_on" }, "berth-handler"), undefined);
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" };
    assert.equal(tracingSettings({ ...endpoint, OTEL_SDK_DISABLED: "true" }, "berth-handler"), undefined);
    assert.equal(tracingSettings({ ...endpoint, OTEL_TRACES_EXPORTER: "none" }, "berth-handler"), undefined);
  });

  test("tracing settings - the base endpoint gets /v1/traces, the traces endpoint is used as it is; service name, resource, headers, sampler", () => {
    const s = tracingSettings(
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/base/",
        OTEL_SERVICE_NAME: "edge-emitter",
        OTEL_RESOURCE_ATTRIBUTES: "deployment.environment=prod,service.name=ignored",
        OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20abc",
        OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
        OTEL_TRACES_SAMPLER_ARG: "0.25",
      },
      "berth-emitter",
    )!;
    assert.equal(s.endpoint.href, "http://collector:4318/base/v1/traces");
    assert.deepEqual(s.resource, { "service.name": "edge-emitter", "deployment.environment": "prod" });
    assert.deepEqual(s.headers, { authorization: "Bearer abc" });
    assert.deepEqual(s.sampler, { parentBased: true, ratio: 0.25 });
    const traces = tracingSettings(
      { OTEL_EXPORTER_OTLP_ENDPOINT: "http://a:1", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://b:2/t" },
      "h",
    )!;
    assert.equal(traces.endpoint.href, "https://b:2/t");
    assert.equal(traces.resource["service.name"], "h");
  });

  test("tracing settings - every mistake named at once, with the fix", () => {
    assert.throws(
      () =>
        tracingSettings(
          {
            OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318",
            OTEL_TRACES_SAMPLER: "sometimes",
            OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
            OTEL_BSP_SCHEDULE_DELAY: "soon",
          },
          "h",
        ),
      (err: Error & { problems?: string[] }) => {
        assert.deepEqual(
          err.problems?.map((p) => p.split(":")[0]),
          ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_TRACES_SAMPLER", "OTEL_BSP_SCHEDULE_DELAY"],
        );
        assert.match(err.message, /http:\/\/otel-collector:4318/);
        assert.match(err.message, /set http\/json/);
        return true;
      },
    );
  });

  test("tracing settings - traceparent: W3C version 00, refused when malformed, all-zero or version ff", () => {
    assert.deepEqual(parseTraceparent(PARENT), { traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331", sampled: true });
    assert.equal(parseTraceparent(PARENT.replace(/-01$/, "-00"))?.sampled, false);
    for (const bad of [
      undefined,
      "",
      PARENT.toUpperCase(),
      PARENT.replace(/^00/, "ff"),
      `00-${"0".repeat(32)}-b7ad6b7169203331-01`,
      `00-0af7651916cd43dd8448eb211c80319c-${"0".repeat(16)}-01`,
      `${PARENT}-x`,
    ])
      assert.equal(parseTraceparent(bad), undefined, String(bad));
  });
});

describe("tracing export", () => {
  const receivers: Awaited<ReturnType<typeof startOtlpReceiver>>[] = [];
  after(() => Promise.all(receivers.map((r) => r.close())));
  const tracerTo = async (env: Record<string, string> = {}) => {
    const receiver = await startOtlpReceiver();
    receivers.push(receiver);
    const tracer = await loadTracer(
      { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: "60000", ...env },
      "berth-test",
      quiet,
    );
    return { receiver, tracer };
  };

  test("tracing export - no variables: NO_TRACER, and neither the recorder nor the exporter is loaded", async () => {
    assert.equal(await loadTracer({}, "berth-test", quiet), NO_TRACER);
    const script = `
      import { registerHooks } from "node:module";
      const seen = [];
      registerHooks({ load: (url, context, next) => { seen.push(url); return next(url, context); } });
      const { loadTracer } = await import(${JSON.stringify(new URL("../common/tracing/index.ts", import.meta.url).href)});
      await loadTracer({}, "x", () => {});
      console.log(JSON.stringify(seen.filter((s) => /tracing|node:crypto|node-http/.test(s))));`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const seen = JSON.parse(r.stdout) as string[];
    assert.ok(
      seen.some((u) => u.endsWith("/tracing/load.ts")),
      `the hook saw the tracing modules: ${seen.join(", ")}`,
    );
    assert.deepEqual(
      seen.filter((s) => /recorder|otlp-export|node-http|node:crypto/.test(s)),
      [],
    );
  });

  test("tracing export - spans as OTLP JSON: ids in hex, parent linked, times, attributes and a failure's status", async () => {
    const { receiver, tracer } = await tracerTo();
    const root = tracer.start("root", { attributes: { "berth.node": "n1", n: 3, ok: true } });
    const child = root.child("child", { kind: "client", start: performance.now() - 5 });
    child.fail(new Error("agent away"));
    child.end();
    root.end();
    await tracer.shutdown();
    const [c, r] = receiver.spans;
    assert.deepEqual([r?.name, c?.name], ["root", "child"]);
    assert.match(r!.traceId, /^[0-9a-f]{32}$/);
    assert.match(r!.spanId, /^[0-9a-f]{16}$/);
    assert.deepEqual([c!.traceId, c!.parentSpanId, r!.parentSpanId], [r!.traceId, r!.spanId, ""]);
    assert.deepEqual(r!.attributes, { "berth.node": "n1", n: "3", ok: true });
    assert.deepEqual([c!.kind, c!.status], [3, { code: 2, message: "agent away" }]);
    assert.ok(c!.end - c!.start >= 4_000_000n, "the child's explicit start: 5 ms before its end");
    assert.ok(Math.abs(Number(r!.start / 1_000_000n) - Date.now()) < 60_000, "Unix time in nanoseconds");
    assert.equal(receiver.spans[0]!.service, "berth-test");
  });

  test("tracing export - a parent's trace continued; an unsampled parent records nothing and passes its flag on; always_off, ratio 0", async () => {
    const { receiver, tracer } = await tracerTo();
    const continued = tracer.start("apply", { parent: PARENT });
    assert.match(continued.traceparent!, /^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    continued.end();
    const unsampled = tracer.start("apply", { parent: PARENT.replace(/-01$/, "-00") });
    assert.equal(unsampled.recording, false);
    assert.match(unsampled.child("x").traceparent!, /^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-00$/);
    unsampled.end();
    await tracer.shutdown();
    assert.deepEqual(
      receiver.spans.map((s) => [s.name, s.parentSpanId]),
      [["apply", "b7ad6b7169203331"]],
    );
    for (const env of [{ OTEL_TRACES_SAMPLER: "always_off" }, { OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "0" }]) {
      const off = await tracerTo(env);
      off.tracer.start("root").end();
      await off.tracer.shutdown();
      assert.equal(off.receiver.spans.length, 0, JSON.stringify(env));
    }
  });

  test("tracing export - a batch leaves once full, without waiting for the schedule", async () => {
    const { receiver, tracer } = await tracerTo({ OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "3" });
    for (let i = 0; i < 3; i++) tracer.start(`s${i}`).end();
    await waitFor(() => receiver.spans.length === 3, { what: "the full batch exported" });
    await tracer.shutdown();
  });
});
