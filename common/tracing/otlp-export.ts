// Finished spans, batched and POSTed as OTLP/HTTP JSON (opentelemetry-proto's JSON mapping: ids in
// hex, times in nanoseconds as decimal text) to the collector the settings name. As OpenTelemetry's
// batch span processor does: a batch leaves every OTEL_BSP_SCHEDULE_DELAY or once it is full, at
// most OTEL_BSP_MAX_QUEUE_SIZE spans wait (more are dropped and counted), one request at a time.
import { http, https } from "../node-http.ts";
import type { TracingSettings } from "./settings.ts";

type AnyValue = { stringValue: string } | { intValue: string } | { doubleValue: number } | { boolValue: boolean };
export type OtlpAttribute = { key: string; value: AnyValue };
export type OtlpSpan = {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: OtlpAttribute[];
  status?: { code: number; message?: string };
};

export const otlpAttributes = (attributes: Record<string, string | number | boolean>): OtlpAttribute[] =>
  Object.entries(attributes).map(([key, v]) => ({
    key,
    value:
      typeof v === "string"
        ? { stringValue: v }
        : typeof v === "boolean"
          ? { boolValue: v }
          : Number.isInteger(v)
            ? { intValue: String(v) }
            : { doubleValue: v },
  }));

export type SpanExporter = { add(span: OtlpSpan): void; shutdown(): Promise<void> };

/** `warn`: told when an export fails after one succeeded (or at the first), and when it works again. */
export function otlpExporter(settings: TracingSettings, warn: (text: string) => void): SpanExporter {
  const resource = { attributes: otlpAttributes(settings.resource) };
  const scope = { name: "berth" };
  const client = settings.endpoint.protocol === "https:" ? https : http;
  let queue: OtlpSpan[] = [];
  let dropped = 0;
  let failing = false;
  let sending: Promise<void> = Promise.resolve();

  const post = (body: string) =>
    new Promise<void>((resolve, reject) => {
      const req = client.request(
        settings.endpoint,
        {
          method: "POST",
          headers: { ...settings.headers, "content-type": "application/json", "content-length": Buffer.byteLength(body) },
          timeout: settings.timeoutMs,
        },
        (res) => {
          res.resume();
          res.on("end", () => ((res.statusCode ?? 0) < 300 ? resolve() : reject(new Error(`collector answered ${res.statusCode}`))));
        },
      );
      req.on("timeout", () => req.destroy(new Error(`no answer within ${settings.timeoutMs} ms`)));
      req.on("error", reject);
      req.end(body);
    });

  const flush = (): Promise<void> => {
    sending = sending.then(async () => {
      while (queue.length > 0) {
        const batch = queue.slice(0, settings.maxExportBatchSize);
        queue = queue.slice(batch.length);
        const body = JSON.stringify({ resourceSpans: [{ resource, scopeSpans: [{ scope, spans: batch }] }] });
        try {
          await post(body);
          if (failing) warn(`spans exported to ${settings.endpoint.origin} again`);
          failing = false;
        } catch (err) {
          if (!failing)
            warn(
              `spans not exported to ${settings.endpoint.origin}: ${(err as Error).message} (dropped; ${dropped} dropped before for a full queue)`,
            );
          failing = true;
        }
      }
    });
    return sending;
  };

  const timer = setInterval(() => void flush(), settings.scheduleDelayMs);
  timer.unref();
  return {
    add(span) {
      if (queue.length >= settings.maxQueueSize) {
        dropped++;
        return;
      }
      queue.push(span);
      if (queue.length === settings.maxExportBatchSize) void flush();
    },
    async shutdown() {
      clearInterval(timer);
      await flush();
    },
  };
}
