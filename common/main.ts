import { ConfigError } from "./config.ts";
import { redactText } from "./redact.ts";

/** A stop that takes longer than this (a hung call) is cut short: exit 1. */
const FORCED_EXIT_MS = 10_000;

/** The body ended because it was told to stop: the signal's own reason, or an AbortError of a wait it cut short. */
const isStop = (err: unknown, signal: AbortSignal) =>
  signal.aborted && (err === signal.reason || (err instanceof Error && err.name === "AbortError"));

/**
 * Runs a process body with graceful shutdown: SIGTERM/SIGINT abort the signal so the body can
 * finish or hand back what is in flight — at any moment, also while it waits for Docker or NATS
 * (those waits end at once: exit 0, nothing printed but the body's own lines). A second signal,
 * or 10 s, forces exit 1. A ConfigError is printed as the list of every problem and exits 2.
 */
export function runMain(svc: string, body: (signal: AbortSignal) => Promise<void>): void {
  const controller = new AbortController();
  const onSignal = (name: string) => {
    if (controller.signal.aborted) process.exit(1);
    // The body logs it (`draining`, in the process's own log format): the signal's reason is its name.
    controller.abort(name);
    setTimeout(() => process.exit(1), FORCED_EXIT_MS).unref();
  };
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGINT", () => onSignal("SIGINT"));
  body(controller.signal).then(
    () => process.exit(0),
    (err: unknown) => {
      if (isStop(err, controller.signal)) process.exit(0);
      if (err instanceof ConfigError) {
        process.stderr.write(`${svc}: ${err.message}\n`);
        process.exit(2);
      }
      // An error's text may quote a URL with credentials or a secret (a server's or an agent's answer).
      process.stderr.write(redactText(`${svc}: fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`));
      process.exit(1);
    },
  );
}
