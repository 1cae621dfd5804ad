// `berth <command>`: picks the process or CLI command and hands over to its entry point.
// Run two ways: compiled (`npm run build` → `node dist/bin/berth-main.js`, in the image) and as
// TypeScript, which Node runs by stripping the types (bin/berth.js, in a clone: `npx berth …`).
// Literal import() calls, so that the build follows them from this file (tsconfig.build.json) and
// rewrites their `.ts` specifiers to `.js`.
const COMMANDS = {
  emitter: () => import("../emitter/main.ts"),
  handler: () => import("../handler/main.ts"),
  explain: () => import("../cli/explain.ts"),
  status: () => import("../cli/status.ts"),
};

const USAGE = `usage: berth <${Object.keys(COMMANDS).join("|")}> [args]   (berth <command> --help for a command's own)\n`;
const command = process.argv[2];
if (command === "--help" || command === "-h" || command === "help") {
  process.stdout.write(USAGE); // asked for: on stdout, exit 0
  process.exit(0);
}
const load = command !== undefined && Object.hasOwn(COMMANDS, command) ? COMMANDS[command as keyof typeof COMMANDS] : undefined;
if (!load) {
  process.stderr.write(USAGE);
  process.exit(2);
}
// The command reads its own arguments from process.argv.slice(2), as when it is run directly.
process.argv.splice(2, 1);
await load();
