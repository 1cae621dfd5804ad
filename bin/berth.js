#!/usr/bin/env node
// `berth <command>` in a clone (`npx berth …`): Node runs the TypeScript entry as it is (it strips
// the types). The image runs the compiled entry instead (`npm run build` → dist/bin/berth-main.js).
await import("./berth-main.ts");
