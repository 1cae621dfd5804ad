#!/usr/bin/env node
// `berth <command>` in a clone (`npx berth …`): registers tsx and runs the TypeScript entry as it is.
// The image runs the compiled entry instead (`npm run build` → dist/bin/berth-main.js, see Dockerfile).
import { register } from "tsx/esm/api";

register();
await import("./berth-main.ts");
