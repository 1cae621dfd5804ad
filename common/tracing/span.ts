// What berth's code sees of tracing: spans it starts, ends and links, and W3C trace context
// (`traceparent`) to carry them from the emitter to a handler inside the event, as the CloudEvents
// distributed-tracing extension does. `NO_TRACER` is what runs when tracing is off: every call a
// no-op on one frozen object, nothing allocated per event.

export type SpanKind = "internal" | "server" | "client" | "producer" | "consumer";
export type Attributes = Record<string, string | number | boolean>;

/** `start`: when the span began, on performance.now()'s clock (ms); now when absent. */
export type SpanOptions = { kind?: SpanKind; start?: number; attributes?: Attributes };

export type Span = {
  /** This span's context as a W3C `traceparent` (`00-<trace id>-<span id>-<flags>`); undefined when off. */
  readonly traceparent: string | undefined;
  /** False when nothing is recorded (tracing off, or the trace not sampled): skip work done only for spans. */
  readonly recording: boolean;
  child(name: string, options?: SpanOptions): Span;
  set(attributes: Attributes): void;
  /** Marks the span as failed, with the error's message. */
  fail(err: unknown): void;
  /** `at`: when it ended, on performance.now()'s clock; now when absent. */
  end(at?: number): void;
};

export type Tracer = {
  /** A span with no parent here: a new trace, or the continuation of `parent` (a `traceparent` received). */
  start(name: string, options?: SpanOptions & { parent?: string | undefined }): Span;
  /** Exports what is left; called when the process drains. */
  shutdown(): Promise<void>;
};

export const NO_SPAN: Span = Object.freeze({
  traceparent: undefined,
  recording: false,
  child: () => NO_SPAN,
  set: () => undefined,
  fail: () => undefined,
  end: () => undefined,
});

export const NO_TRACER: Tracer = Object.freeze({ start: () => NO_SPAN, shutdown: () => Promise.resolve() });

/** W3C trace context, version 00 (the wire schema only bounds it: a malformed one starts a new trace). */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export type SpanContext = { traceId: string; spanId: string; sampled: boolean };

/** The context a `traceparent` carries, or undefined for one that is malformed or invalid (all-zero ids, version ff). */
export function parseTraceparent(text: string | undefined): SpanContext | undefined {
  const m = text === undefined ? null : TRACEPARENT.exec(text);
  if (!m) return undefined;
  const [, version, traceId, spanId, flags] = m as unknown as [string, string, string, string, string];
  if (version === "ff" || /^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, sampled: (parseInt(flags, 16) & 1) === 1 };
}

export const formatTraceparent = (c: SpanContext) => `00-${c.traceId}-${c.spanId}-${c.sampled ? "01" : "00"}`;
