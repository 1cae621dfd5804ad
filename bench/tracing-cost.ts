// What tracing costs a process, per event: the spans of one registration (the emitter's root and its
// event read, inspect and publish; the handler's span continued from the traceparent, with decode,
// record, one agent call and the re-read: 9 spans) made and exported over OTLP/HTTP JSON to a sink
// in another process, 1,000 events a second for 10 s. `off`: tracing not configured (NO_TRACER);
// `own`: common/tracing/; `otel`: OpenTelemetry's JS SDK (sdk-trace-base's BatchSpanProcessor and
// exporter-trace-otlp-http), from the node_modules folder OTEL_JS names (not a dependency of berth).
//
//   for w in off own otel; do OTEL_JS=/path/node_modules node --expose-gc bench/tracing-cost.ts $w; done
import { createRequire } from "node:module";
import { setTimeout as sleep } from "node:timers/promises";
import { loadTracer, type Tracer } from "../common/tracing/index.ts";
import { spawnOtlpSink } from "./otlp-sink.ts";

type OneEvent = (i: number) => void;

const sink = await spawnOtlpSink();
const env = { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_BSP_SCHEDULE_DELAY: "200" };

function withOwn(tracer: Tracer): OneEvent {
  return (i) => {
    const root = tracer.start("berth emit", { attributes: { "container.id": String(i), "docker.action": "start" } });
    root.child("docker event read").end();
    root.child("docker inspect", { kind: "client" }).end();
    const publish = root.child("nats publish", { kind: "producer" });
    publish.end();
    root.end();
    const apply = tracer.start("berth apply", { parent: publish.traceparent, kind: "consumer", attributes: { "container.id": String(i) } });
    for (const name of ["decode", "state record", "consul register", "state re-read"]) apply.child(name).end();
    apply.end();
  };
}

// The little of OpenTelemetry's API this uses, typed here (it is not installed with berth).
type OtelSpan = { end(): void };
type OtelContext = object;
type OtelApi = {
  SpanKind: Record<"INTERNAL" | "CLIENT" | "PRODUCER" | "CONSUMER", number>;
  context: { active(): OtelContext };
  trace: { setSpan(context: OtelContext, span: OtelSpan): OtelContext };
  defaultTextMapSetter: object;
  defaultTextMapGetter: object;
};
type OtelTracer = {
  startSpan(name: string, options: { kind?: number; attributes?: Record<string, string> }, context?: OtelContext): OtelSpan;
};
type Otel = {
  api: OtelApi;
  provider: { getTracer(name: string): OtelTracer; shutdown(): Promise<void> };
  propagator: {
    inject(context: OtelContext, carrier: Record<string, string>, setter: object): void;
    extract(context: OtelContext, carrier: Record<string, string>, getter: object): OtelContext;
  };
};

function loadOtel(): Otel {
  if (!process.env["OTEL_JS"]) throw new Error("OTEL_JS: the node_modules folder holding @opentelemetry/*");
  const require = createRequire(`${process.env["OTEL_JS"]}/`);
  const api = require("@opentelemetry/api") as Otel["api"];
  const base = require("@opentelemetry/sdk-trace-base") as Record<string, new (...a: unknown[]) => unknown>;
  const { OTLPTraceExporter } = require("@opentelemetry/exporter-trace-otlp-http") as Record<string, new (o: unknown) => unknown>;
  const { resourceFromAttributes } = require("@opentelemetry/resources") as { resourceFromAttributes: (a: object) => unknown };
  const { W3CTraceContextPropagator } = require("@opentelemetry/core") as Record<string, new () => Otel["propagator"]>;
  const processor = new base["BatchSpanProcessor"]!(new OTLPTraceExporter!({ url: `${sink.url}/v1/traces` }), {
    scheduledDelayMillis: 200,
  });
  const provider = new base["BasicTracerProvider"]!({
    resource: resourceFromAttributes({ "service.name": "bench" }),
    spanProcessors: [processor],
  });
  return { api, provider: provider as Otel["provider"], propagator: new W3CTraceContextPropagator!() };
}

function withOtel({ api, provider, propagator }: Otel): OneEvent {
  const tracer = provider.getTracer("berth");
  const child = (name: string, parent: OtelContext, kind = api.SpanKind.INTERNAL) => {
    const span = tracer.startSpan(name, { kind }, parent);
    span.end();
    return span;
  };
  return (i) => {
    const root = tracer.startSpan("berth emit", { attributes: { "container.id": String(i), "docker.action": "start" } });
    const rootContext = api.trace.setSpan(api.context.active(), root);
    child("docker event read", rootContext);
    child("docker inspect", rootContext, api.SpanKind.CLIENT);
    const publish = child("nats publish", rootContext, api.SpanKind.PRODUCER);
    const carrier: Record<string, string> = {};
    propagator.inject(api.trace.setSpan(api.context.active(), publish), carrier, api.defaultTextMapSetter);
    root.end();
    const received = propagator.extract(api.context.active(), carrier, api.defaultTextMapGetter);
    const apply = tracer.startSpan("berth apply", { kind: api.SpanKind.CONSUMER, attributes: { "container.id": String(i) } }, received);
    const applyContext = api.trace.setSpan(api.context.active(), apply);
    for (const name of ["decode", "state record", "consul register", "state re-read"]) child(name, applyContext);
    apply.end();
  };
}

const which = process.argv[2] ?? "own";
const rss0 = process.memoryUsage.rss();
let shutdown: () => Promise<void>;
let oneEvent: OneEvent;
if (which === "otel") {
  const otel = loadOtel();
  oneEvent = withOtel(otel);
  shutdown = () => otel.provider.shutdown();
} else {
  const tracer = await loadTracer(which === "off" ? {} : env, "bench", (text) => void process.stderr.write(`${text}\n`));
  oneEvent = withOwn(tracer);
  shutdown = () => tracer.shutdown();
}
(globalThis as { gc?: () => void }).gc?.();
const loaded = process.memoryUsage.rss();
const EVENTS = 10_000;
const cpu0 = process.cpuUsage();
for (let i = 0; i < EVENTS; i++) {
  oneEvent(i);
  if (i % 50 === 49) await sleep(50);
}
await shutdown();
const cpu = process.cpuUsage(cpu0);
const peak = process.memoryUsage.rss();
sink.stop();
console.log(
  JSON.stringify({
    which,
    loadedMB: +((loaded - rss0) / 2 ** 20).toFixed(1),
    rssAfterMB: +(peak / 2 ** 20).toFixed(1),
    cpuPerEventUs: +((cpu.user + cpu.system) / EVENTS).toFixed(1),
  }),
);
