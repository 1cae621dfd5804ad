#!/usr/bin/env node
// `berth <command>` in a clone (`berth …` once `npm link`ed, `npx berth …`, `npm run emitter|handler`):
// the Node check first (a static import: it runs before anything below is even read), then the
// TypeScript entry, which Node runs as it is (it strips the types) — in this same process, so a
// process manager's SIGTERM reaches berth itself. The image runs the compiled entry instead
// (`npm run build` → dist/bin/berth-main.js).
import "./node-check.js";

await import("./berth-main.ts");
