// How NATS's refusals and JetStream's API errors reach berth's code.
import { JetStreamApiError, NoRespondersError, PermissionViolationError, TimeoutError } from "./sdk.ts";

/**
 * The server refused a publish, or the subscription to a reply inbox (its users' `permissions`).
 * berth turns the server's report into this error, naming the subject, instead of a timeout.
 */
export class NatsPermissionError extends Error {
  override readonly name = "NatsPermissionError";
  readonly code = "E_NATS_PERMISSION";
  readonly subject: string;
  readonly operation: "publish" | "subscribe";
  constructor(subject: string, serverText: string, operation: "publish" | "subscribe" = "publish") {
    super(
      `NATS refused this connection permission to ${operation} ${operation === "publish" ? "to" : "to its inbox"} "${subject}" (${serverText}): check this user's permissions in the nats-server configuration`,
    );
    this.subject = subject;
    this.operation = operation;
  }
}

/** JetStream API error codes berth tells apart. */
export const API_ERROR = {
  streamNotFound: 10059,
  consumerNotFound: 10014,
  streamNameInUse: 10058,
  consumerExists: 10148,
  wrongLastSequence: 10071,
} as const;

export function isApiError(err: unknown, codes: readonly number[]): boolean {
  return err instanceof JetStreamApiError && codes.includes(err.code);
}

/** JetStream "system temporarily unavailable": no meta leader yet, or one being elected. */
const UNAVAILABLE = 10008;

/**
 * A failure that passes with time on a cluster: a request nobody answered in time while a leader
 * is elected or a stream's replicas move, no responder yet, JetStream temporarily unavailable.
 */
export function isTransient(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e instanceof TimeoutError || e instanceof NoRespondersError) return true;
    if (e instanceof JetStreamApiError && (e.code === UNAVAILABLE || e.status === 503)) return true;
  }
  return false;
}

/**
 * A JetStream write nobody answered ("no responders"), which nats.js reports as "jetstream is not
 * enabled" — words that send an operator to the wrong place. On a cluster it means the stream has no
 * leader: a server crashed and the survivors are electing one (4–9 s); else no stream takes the subject.
 */
export class NoLeaderError extends Error {
  override readonly name = "NoLeaderError";
  readonly code = "E_NATS_NO_LEADER";
}

function noResponders(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) if (e instanceof NoRespondersError) return true;
  return false;
}

/** Runs the JetStream write `work`, a "no responders" named for what it is: `what` (e.g. "the events stream") has no leader. */
export async function leaderOrNamed<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (noResponders(err)) throw new NoLeaderError(`${what} has no leader (election in progress), or does not exist`, { cause: err });
    throw err;
  }
}

/** What unlessDenied needs of a connection (a Bus): who to tell of each subject the server refused. */
type DenialSource = { onDenied(listener: (denial: NatsPermissionError) => void): () => void };

/** Runs `work`, failing fast with a NatsPermissionError when the server refuses a publish or inbox `work` depends on. */
export async function unlessDenied<T>(bus: DenialSource, match: (subject: string) => boolean, work: () => Promise<T>): Promise<T> {
  let stop = () => {};
  const denied = new Promise<never>((_, reject) => {
    stop = bus.onDenied((denial) => {
      if (match(denial.subject)) reject(denial);
    });
  });
  try {
    return await Promise.race([work(), denied]);
  } catch (err) {
    // The client also fails the request itself, with the server's text as the cause: the same
    // report, also when the refusal is of the inbox its reply would come to.
    const cause = err instanceof Error ? err.cause : undefined;
    if (cause instanceof PermissionViolationError) {
      throw new NatsPermissionError(cause.subject, cause.message, cause.operation === "publish" ? "publish" : "subscribe");
    }
    throw err;
  } finally {
    stop();
  }
}
