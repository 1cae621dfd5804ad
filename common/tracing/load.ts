// The process's tracer: NO_TRACER unless OpenTelemetry's variables name a collector. Only then are
// the recorder and the exporter imported, so a process without tracing loads and spends nothing
// for it (bench/README.md "Tracing").
import { NO_TRACER, type Tracer } from "./span.ts";
import { tracingSettings } from "./settings.ts";

/** `service`: service.name unless OTEL_SERVICE_NAME sets it; `warn`: export trouble, for the log. */
export async function loadTracer(env: Record<string, string | undefined>, service: string, warn: (text: string) => void): Promise<Tracer> {
  const settings = tracingSettings(env, service);
  if (!settings) return NO_TRACER;
  const [{ recordingTracer }, { otlpExporter }] = await Promise.all([import("./recorder.ts"), import("./otlp-export.ts")]);
  return recordingTracer(settings.sampler, otlpExporter(settings, warn));
}
