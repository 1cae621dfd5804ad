// The connection to NATS: servers, credentials, TLS, refusals a retry cannot fix, and its state.
import { readFileSync } from "node:fs";
import { ConfigError } from "../config.ts";
import type { Logger } from "../log.ts";
import { NOT_WAITING, waitUntilUp, type Waiting } from "../waiting.ts";
import { NatsPermissionError } from "./errors.ts";
import {
  AuthorizationError,
  InvalidArgumentError,
  PermissionViolationError,
  connect,
  credsAuthenticator,
  jetstream,
  nkeyAuthenticator,
  type ConnectionOptions,
  type JetStreamClient,
  type NatsConnection,
} from "./sdk.ts";

export type NatsSettings = {
  NATS_URL: string;
  NATS_USER?: string;
  NATS_PASSWORD?: string;
  NATS_TOKEN?: string;
  /** A creds file (user JWT + seed), or an nkey seed file. */
  NATS_CREDS?: string;
  NATS_NKEY?: string;
  /** TLS: the CA that signed the server's certificate; a client certificate and key when the server asks. */
  NATS_CA?: string;
  NATS_CERT?: string;
  NATS_KEY?: string;
  BERTH_PREFIX: string;
};

/** How long a stop waits for NATS to confirm the drain before closing the connection. */
const DRAIN_MS = 2_000;

export type Bus = {
  nc: NatsConnection;
  js: JetStreamClient;
  prefix: string;
  /** Resolves when the connection is closed for good; an Error if it closed because of one. */
  closed(): Promise<Error | undefined>;
  /** Drains the connection (what is queued is sent, subscriptions end), or closes it when NATS does not answer within 2 s. */
  drain(): Promise<void>;
  /** Calls `listener` with each subject the server refused this connection to publish to. */
  onDenied(listener: (denial: NatsPermissionError) => void): () => void;
};

/**
 * How long a JetStream request (a publish's ack, a state bucket read or write) is waited for before it
 * fails and is tried again. They are answered in milliseconds, even under a backlog; one sent while
 * the connection moves to another server, or to a leader that just crashed, is never answered: two
 * seconds instead of the client's five bound what such a request adds to an election (docs/scaling.md).
 */
const JETSTREAM_TIMEOUT_MS = 2_000;

/** Credentials and TLS from the settings; file contents are read here, never logged. */
function authOptions(settings: NatsSettings): Partial<ConnectionOptions> {
  const options: Partial<ConnectionOptions> = {};
  if (settings.NATS_USER !== undefined) Object.assign(options, { user: settings.NATS_USER, pass: settings.NATS_PASSWORD ?? "" });
  if (settings.NATS_TOKEN !== undefined) options.token = settings.NATS_TOKEN;
  if (settings.NATS_CREDS !== undefined) options.authenticator = credsAuthenticator(readFileSync(settings.NATS_CREDS));
  if (settings.NATS_NKEY !== undefined)
    options.authenticator = nkeyAuthenticator(new TextEncoder().encode(readFileSync(settings.NATS_NKEY, "utf8").trim()));
  if (settings.NATS_CA !== undefined || settings.NATS_CERT !== undefined) {
    options.tls = {
      ...(settings.NATS_CA !== undefined ? { caFile: settings.NATS_CA } : {}),
      ...(settings.NATS_CERT !== undefined ? { certFile: settings.NATS_CERT } : {}),
      ...(settings.NATS_KEY !== undefined ? { keyFile: settings.NATS_KEY } : {}),
    };
  }
  return options;
}

/** Node's codes for a TLS handshake or server certificate that fails: waiting cannot fix them. */
const TLS_FAILURE =
  /^(ERR_TLS_|ERR_SSL_|UNABLE_TO_|SELF_SIGNED_CERT|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_|HOSTNAME_MISMATCH|INVALID_CA|INVALID_PURPOSE)/;

/**
 * A refusal no retry can fix: wrong credentials, an untrusted server certificate, TLS asked of a
 * server without it. Reported as a configuration problem (exit 2), never waited on in silence.
 */
function refusal(err: unknown, settings: NatsSettings): ConfigError | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e instanceof AuthorizationError) {
      const who =
        settings.NATS_USER !== undefined
          ? ` of user "${settings.NATS_USER}": check NATS_USER and NATS_PASSWORD`
          : ": check NATS_TOKEN, NATS_CREDS or NATS_NKEY";
      return new ConfigError([`NATS refused the credentials (${e.message})${who}`]);
    }
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === "string" && TLS_FAILURE.test(code)) {
      const fix =
        settings.NATS_CA === undefined
          ? "set NATS_CA to the CA certificate that signed it"
          : `NATS_CA (${settings.NATS_CA}) does not hold the CA that signed it`;
      return new ConfigError([`NATS server's TLS certificate was not accepted (${code}: ${e.message}): ${fix}`]);
    }
    if (e instanceof InvalidArgumentError) return new ConfigError([`NATS: ${e.message}`]);
  }
  return undefined;
}

/** What to check when NATS does not answer, by the reason. */
function natsHint(reason: string, settings: NatsSettings): string {
  return /refused|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|timeout/i.test(reason)
    ? `is nats-server running (with -js, JetStream) at NATS_URL=${settings.NATS_URL}? set NATS_URL to where it listens`
    : `check NATS_URL=${settings.NATS_URL}`;
}

/**
 * Connects to any of NATS_URL's servers (comma-separated; the client also learns the rest of a
 * cluster from the server) and follows it through reconnects to the others. The first connection
 * is waited for while the server cannot be reached (it may start after berth; `waiting` says so in
 * its log and ends the wait on its signal), but a refusal of credentials or certificate stops the
 * process with the reason.
 */
export async function connectBus(settings: NatsSettings, name: string, waiting: Waiting = NOT_WAITING): Promise<Bus> {
  const options: ConnectionOptions = {
    servers: settings.NATS_URL.split(","),
    name,
    // Replies come to `_INBOX.<name>.…`, so nats-server permissions can give each process its own inboxes.
    inboxPrefix: `_INBOX.${name}`,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: false,
    // Otherwise every request (each KV read and write) builds two Errors with stack traces in
    // advance, for a context berth never logs: about a tenth of a busy handler's CPU (npm run bench).
    noAsyncTraces: true,
    ...authOptions(settings),
  };
  const nc = await waitUntilUp(
    async () => {
      try {
        return await connect(options);
      } catch (err) {
        throw refusal(err, settings) ?? err;
      }
    },
    {
      ...waiting,
      what: "NATS",
      hint: (reason) => natsHint(reason, settings),
      fatal: (err) => err instanceof ConfigError,
      discard: (late) => void (late as NatsConnection).close(),
    },
  );
  const listeners = new Set<(denial: NatsPermissionError) => void>();
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type !== "error" || !(s.error instanceof PermissionViolationError) || s.error.operation !== "publish") continue;
      const denial = new NatsPermissionError(s.error.subject, s.error.message);
      for (const listener of listeners) listener(denial);
    }
  })();
  return {
    nc,
    js: jetstream(nc, { timeout: JETSTREAM_TIMEOUT_MS }),
    prefix: settings.BERTH_PREFIX,
    closed: async () => (await nc.closed()) ?? undefined,
    // With NATS out of reach a drain fails at once, or waits for a confirmation that never comes,
    // while the client goes on reconnecting: then the connection is closed. What is not acknowledged
    // is delivered again after the ack wait, so closing loses nothing.
    drain: async () => {
      const drained = nc.drain().then(
        () => "drained" as const,
        () => "failed" as const,
      );
      const gaveUp = new Promise<"gave up">((resolve) => setTimeout(resolve, DRAIN_MS, "gave up").unref());
      if ((await Promise.race([drained, gaveUp])) !== "drained") await nc.close();
    },
    onDenied(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
}

/**
 * Tracks the connection: false from a disconnect until the next reconnect, and once closed. Each
 * disconnect and reconnect is one line in `log`, naming the server (the client's many
 * `reconnecting` attempts in between are not).
 */
export function watchConnection(bus: Bus, log?: Logger): () => boolean {
  let connected = true;
  void (async () => {
    for await (const s of bus.nc.status()) {
      if (s.type === "disconnect") {
        connected = false;
        log?.warn({ server: s.server }, "NATS disconnected: reconnecting");
      } else if (s.type === "reconnect") {
        connected = true;
        log?.info({ server: s.server }, "NATS reconnected");
      }
    }
  })().catch(() => undefined);
  return () => connected && !bus.nc.isClosed();
}
