#!/bin/sh
# The image's entry point, `berth <command>`: bin/berth-main.ts picks the process or CLI command.
# The emitter runs in V8's lite mode (no optimising compilers, feedback allocated lazily): it
# handles a few events a second and peaks ~17 MB lower (npm run bench), while in a burst of 50
# starts each one is published ~45 ms later. The handler keeps the compilers: its CPU per event is
# what its throughput is made of. Lite mode also turns WebAssembly off, which Node's type stripping
# needs: `npm run emitter` in a clone (the TypeScript sources) runs without it.
main="$(dirname "$0")/../dist/bin/berth-main.js"
if [ "$1" = emitter ]; then exec node --lite-mode "$main" "$@"; fi
exec node "$main" "$@"
