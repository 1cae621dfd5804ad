// Registry of things a test started, so `after(cleanupAll)` stops everything, even after a failure.
//
// Every start* function of the harness registers its own stop here and unregisters once stopped.
// Two safety nets (installed on first registration, not on import):
//  - on SIGINT/SIGTERM the process exits (130/143) so the net below runs;
//  - on process 'exit', whatever is still registered gets its synchronous `emergency` teardown
//    (SIGKILL the processes, lazy-unmount, delete the bridge and temp dirs). That covers a test
//    file that forgot `after(cleanupAll)` or a test calling process.exit().
type Entry = { name: string; stop: () => Promise<void>; emergency: (() => void) | undefined };

const entries = new Set<Entry>();
let hooksInstalled = false;

/** Registers a stop function (LIFO order in cleanupAll); returns a function that unregisters it. */
export function registerCleanup(name: string, stop: () => Promise<void>, emergency?: () => void): () => void {
  installHooks();
  const entry: Entry = { name, stop, emergency };
  entries.add(entry);
  return () => {
    entries.delete(entry);
  };
}

/** Stops everything still registered, newest first; every stop is attempted, errors are collected. */
export async function cleanupAll(): Promise<void> {
  const errors: unknown[] = [];
  for (const entry of [...entries].reverse()) {
    try {
      await entry.stop();
    } catch (error) {
      errors.push(new Error(`cleanup of ${entry.name} failed`, { cause: error }));
    } finally {
      entries.delete(entry);
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, `${errors.length} cleanup(s) failed`);
}

/** Names of what is still registered (for leak assertions in tests). */
export function pendingCleanups(): string[] {
  return [...entries].map((e) => e.name);
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once("exit", () => {
    for (const entry of [...entries].reverse()) {
      try {
        entry.emergency?.();
      } catch {
        // best effort: the process is exiting
      }
    }
    entries.clear();
  });
  process.once("SIGINT", () => process.exit(130));
  process.once("SIGTERM", () => process.exit(143));
}
