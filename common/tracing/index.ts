// Tracing (W3C trace context, spans exported over OTLP/HTTP): what the rest of berth imports.
export { NO_SPAN, NO_TRACER, parseTraceparent, type Attributes, type Span, type SpanKind, type SpanOptions, type Tracer } from "./span.ts";
export { loadTracer } from "./load.ts";
