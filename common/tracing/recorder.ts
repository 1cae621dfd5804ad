// The tracer that records: spans with random W3C ids, sampled by OTEL_TRACES_SAMPLER's rule, handed
// to the exporter when they end. Loaded only when tracing is on (common/tracing/load.ts).
import { randomFillSync } from "node:crypto";
import { otlpAttributes, type SpanExporter } from "./otlp-export.ts";
import type { Sampler } from "./settings.ts";
import {
  NO_SPAN,
  formatTraceparent,
  parseTraceparent,
  type Attributes,
  type Span,
  type SpanContext,
  type SpanKind,
  type SpanOptions,
  type Tracer,
} from "./span.ts";

const KINDS: Record<SpanKind, number> = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 };

/** performance.now()'s milliseconds as Unix nanoseconds, in decimal text. */
const unixNanos = (ms: number) => String(BigInt(Math.round((performance.timeOrigin + ms) * 1000)) * 1000n);

/** Random bytes drawn from a pool filled 4 KiB at a time: one call to the generator per ~340 spans, not one per id. */
const pool = Buffer.alloc(4096);
let used = pool.length;

const randomId = (bytes: number) => {
  for (;;) {
    if (used + bytes > pool.length) {
      randomFillSync(pool);
      used = 0;
    }
    const id = pool.toString("hex", used, (used += bytes));
    if (!/^0+$/.test(id)) return id;
  }
};

/** A trace id's last 8 bytes against the ratio, as OpenTelemetry's TraceIdRatioBased sampler decides. */
const withinRatio = (traceId: string, ratio: number) =>
  ratio >= 1 || (ratio > 0 && Number(BigInt(`0x${traceId.slice(16)}`)) / 2 ** 64 < ratio);

/** A span that records nothing but carries its trace's context on (a trace not sampled). */
function unsampled(context: SpanContext): Span {
  const traceparent = formatTraceparent(context);
  const span: Span = { ...NO_SPAN, traceparent, child: () => span };
  return span;
}

export function recordingTracer(sampler: Sampler, exporter: SpanExporter): Tracer {
  const open = (name: string, context: SpanContext, parentSpanId: string | undefined, options: SpanOptions = {}): Span => {
    const start = options.start ?? performance.now();
    const attributes: Attributes = { ...options.attributes };
    let status: { code: number; message?: string } | undefined;
    let ended = false;
    const span: Span = {
      traceparent: formatTraceparent(context),
      recording: true,
      child: (childName, childOptions) => open(childName, { ...context, spanId: randomId(8) }, context.spanId, childOptions),
      set: (more) => void Object.assign(attributes, more),
      fail: (err) => void (status = { code: 2, message: err instanceof Error ? err.message : String(err) }),
      end(at) {
        if (ended) return;
        ended = true;
        exporter.add({
          traceId: context.traceId,
          spanId: context.spanId,
          ...(parentSpanId ? { parentSpanId } : {}),
          name,
          kind: KINDS[options.kind ?? "internal"],
          startTimeUnixNano: unixNanos(start),
          endTimeUnixNano: unixNanos(Math.max(start, at ?? performance.now())),
          attributes: otlpAttributes(attributes),
          ...(status ? { status } : {}),
        });
      },
    };
    return span;
  };
  return {
    start(name, options = {}) {
      const parent = parseTraceparent(options.parent);
      const traceId = parent?.traceId ?? randomId(16);
      const sampled = parent && sampler.parentBased ? parent.sampled : withinRatio(traceId, sampler.ratio);
      const context = { traceId, spanId: randomId(8), sampled };
      return sampled ? open(name, context, parent?.spanId, options) : unsampled(context);
    },
    shutdown: () => exporter.shutdown(),
  };
}
