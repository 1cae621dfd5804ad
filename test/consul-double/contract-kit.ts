// Support for test/consul-contract-*.test.ts: picks the target (the double, or a real agent
// when CONSUL_HTTP_ADDR is set), a tiny HTTP client on global fetch, and polling helpers.
import { randomBytes } from "node:crypto";
import { startConsulDouble } from "./server.ts";
import type { ConsulDouble } from "./types.ts";

export type Res = { status: number; text: string; headers: Headers; json(): unknown };
export type Req = { body?: string; headers?: Record<string, string> };

export type Target = {
  base: string;
  /** True when talking to a real Consul agent. */
  real: boolean;
  double: ConsulDouble | undefined;
  run: string;
  call(method: string, path: string, req?: Req): Promise<Res>;
  get(path: string, req?: Req): Promise<Res>;
  put(path: string, body?: unknown, req?: Req): Promise<Res>;
  /**
   * Resolves once a request whose path+query contains `fragment` is being served and not yet
   * answered. The double records it; a real agent gives no signal, so there it waits 300ms
   * (assertions never depend on it: it only makes the blocked-then-woken path likely).
   */
  inFlight(fragment: string): Promise<void>;
  close(): Promise<void>;
};

export function realAddress(): string | undefined {
  const addr = process.env.CONSUL_HTTP_ADDR;
  if (!addr) return undefined;
  return /^https?:\/\//.test(addr) ? addr.replace(/\/$/, "") : `http://${addr}`;
}

export async function openTarget(): Promise<Target> {
  const real = realAddress();
  const double = real ? undefined : await startConsulDouble();
  const base = real ?? (double as ConsulDouble).url;
  const token = process.env.CONSUL_HTTP_TOKEN;
  const call = async (method: string, path: string, req: Req = {}): Promise<Res> => {
    const headers: Record<string, string> = { ...(real && token ? { "X-Consul-Token": token } : {}), ...(req.headers ?? {}) };
    const res = await fetch(base + path, { method, headers, ...(req.body !== undefined ? { body: req.body } : {}) });
    const text = await res.text();
    return { status: res.status, text, headers: res.headers, json: () => JSON.parse(text) as unknown };
  };
  return {
    base,
    real: real !== undefined,
    double,
    run: randomBytes(4).toString("hex"),
    call,
    get: (path, req) => call("GET", path, req),
    put: (path, body, req) =>
      call("PUT", path, { ...req, ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }) }),
    inFlight: async (fragment) => {
      if (!double) {
        await new Promise((r) => setTimeout(r, 300));
        return;
      }
      const seen = () => double.requests.some((r) => r.status === 0 && `${r.path}?${r.query}`.includes(fragment));
      await eventually(
        () => Promise.resolve(seen()),
        (ok) => ok,
        5000,
      );
    },
    close: async () => {
      await double?.close();
    },
  };
}

/** Polls `probe` until `ok` holds or the deadline passes; returns the last value seen. */
export async function eventually<T>(probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (!ok(last) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    last = await probe();
  }
  return last;
}

/** Object keys in wire order, minus keys that some Consul versions add. */
export function keysOf(o: unknown, optional: string[] = []): string[] {
  return Object.keys(o as object).filter((k) => !optional.includes(k));
}

export const enc = encodeURIComponent;
