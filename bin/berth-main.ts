// `berth <command>`: picks the process or CLI command and hands over to its entry point.
// Run two ways: compiled (`npm run build` → `node dist/bin/berth-main.js`, in the image) and as
// TypeScript, which Node runs by stripping the types (bin/berth.js, in a clone: `berth …`).
// Literal import() calls, so that the build follows them from this file (tsconfig.build.json) and
// rewrites their `.ts` specifiers to `.js`.
import { berthVersion } from "../cli/version.ts";

const COMMANDS = {
  emitter: () => import("../emitter/main.ts"),
  handler: () => import("../handler/main.ts"),
  explain: () => import("../cli/explain.ts"),
  status: () => import("../cli/status.ts"),
};
/** The processes: configured by environment variables only; their help lists them (cli/process-help.ts). */
const PROCESSES = new Set(["emitter", "handler"]);

const USAGE = `usage: berth <${Object.keys(COMMANDS).join("|")}> [args]   (berth <command> --help for a command's own)
       berth --version
`;
const HELP = new Set(["--help", "-h", "help"]);

const [command, ...args] = process.argv.slice(2);
if (command !== undefined && HELP.has(command)) {
  process.stdout.write(USAGE); // asked for: on stdout, exit 0
  process.exit(0);
}
if (command === "--version" || command === "-v" || command === "version") {
  process.stdout.write(`berth ${berthVersion()} (Node ${process.version})\n`);
  process.exit(0);
}
if (command === undefined || !Object.hasOwn(COMMANDS, command)) {
  process.stderr.write(`${command === undefined ? "berth: no command given" : `berth: unknown command '${command}'`}\n${USAGE}`);
  process.exit(2);
}
if (PROCESSES.has(command) && args.length > 0) {
  // Never started by accident: `berth emitter --help` prints its variables, anything else is refused.
  if (args.length === 1 && HELP.has(args[0]!)) {
    const { processHelp } = await import("../cli/process-help.ts");
    process.stdout.write(processHelp(command as "emitter" | "handler"));
    process.exit(0);
  }
  process.stderr.write(
    `berth ${command}: takes no arguments, got "${args.join(" ")}": it is configured by environment variables (berth ${command} --help lists them)\n`,
  );
  process.exit(2);
}
// The command reads its own arguments from process.argv.slice(2), as when it is run directly.
process.argv.splice(2, 1);
await COMMANDS[command as keyof typeof COMMANDS]();
