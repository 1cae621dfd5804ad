// A collector for the tests: an HTTP server on loopback that takes OTLP/HTTP JSON trace exports
// (POST /v1/traces) and keeps every span with its resource's service.name.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export type ReceivedSpan = {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  start: bigint;
  end: bigint;
  attributes: Record<string, unknown>;
  status?: { code: number; message?: string };
};

type Export = {
  resourceSpans: {
    resource: { attributes: { key: string; value: Record<string, unknown> }[] };
    scopeSpans: {
      spans: (Omit<ReceivedSpan, "service" | "start" | "end" | "attributes" | "parentSpanId"> & {
        parentSpanId?: string;
        startTimeUnixNano: string;
        endTimeUnixNano: string;
        attributes: { key: string; value: Record<string, unknown> }[];
      })[];
    }[];
  }[];
};

const attributesOf = (list: { key: string; value: Record<string, unknown> }[]) =>
  Object.fromEntries(list.map((a) => [a.key, Object.values(a.value)[0]]));

export async function startOtlpReceiver(): Promise<{
  url: string;
  spans: ReceivedSpan[];
  requests: { path: string; contentType: string }[];
  close(): Promise<void>;
}> {
  const spans: ReceivedSpan[] = [];
  const requests: { path: string; contentType: string }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      requests.push({ path: req.url ?? "", contentType: req.headers["content-type"] ?? "" });
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Export;
      for (const rs of body.resourceSpans) {
        const service = String(attributesOf(rs.resource.attributes)["service.name"]);
        for (const ss of rs.scopeSpans)
          for (const s of ss.spans) {
            assert.match(s.startTimeUnixNano, /^\d+$/);
            spans.push({
              service,
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId ?? "",
              name: s.name,
              kind: s.kind,
              start: BigInt(s.startTimeUnixNano),
              end: BigInt(s.endTimeUnixNano),
              attributes: attributesOf(s.attributes),
              ...(s.status ? { status: s.status } : {}),
            });
          }
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
