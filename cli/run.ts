// How a CLI command ends: what it returns on stdout and exit 0, or its error and exit code.

/** A message for the user and the exit code it ends with (0: the usage was asked for, printed on stdout). */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.exitCode = exitCode;
  }
}

/**
 * Runs `command`, prints what it returns and exits. `censor` passes everything printed through
 * first (berth status: NATS_URL, agent answers and dead letters may quote a secret).
 */
export async function runCli(name: string, command: () => Promise<string>, censor: (text: string) => string = (t) => t): Promise<never> {
  const write = (stream: NodeJS.WriteStream, text: string) => new Promise<void>((resolve) => stream.write(censor(text), () => resolve()));
  try {
    await write(process.stdout, await command());
    process.exit(0);
  } catch (err) {
    const known = err instanceof CliError;
    const text = known ? err.message : `berth ${name}: ${(err as Error).message}`;
    await write(known && err.exitCode === 0 ? process.stdout : process.stderr, text.endsWith("\n") ? text : `${text}\n`);
    process.exit(known ? err.exitCode : 1);
  }
}
