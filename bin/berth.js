#!/usr/bin/env node
// `berth <command>`: one entry point for the container image and for `npx berth …`.
// Plain JS so that node runs it as is; it registers tsx and hands over to the TypeScript entry.
import { register } from "tsx/esm/api";

const COMMANDS = {
  emitter: "../emitter/main.ts",
  handler: "../handler/main.ts",
  explain: "../cli/explain.ts",
  status: "../cli/status.ts",
};

const [command, ...rest] = process.argv.slice(2);
const entry = command && Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
if (!entry) {
  process.stderr.write(`usage: berth <${Object.keys(COMMANDS).join("|")}> [args]\n`);
  process.exit(2);
}
process.argv = [process.argv[0], new URL(entry, import.meta.url).pathname, ...rest];
register();
await import(entry);
