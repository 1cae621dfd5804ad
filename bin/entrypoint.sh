#!/bin/sh
# The image's entry point, `berth <command>`: bin/berth-main.ts picks the process or CLI command.
# The emitter runs in V8's lite mode (no optimising compilers, feedback allocated lazily): it
# handles a few events a second and peaks ~17 MB lower (npm run bench), while in a burst of 50
# starts each one is published ~45 ms later. The handler keeps the compilers: its CPU per event is
# what its throughput is made of. Lite mode also turns WebAssembly off, which Node's type stripping
# needs: `npm run emitter` in a clone (the TypeScript sources) runs without it.
main="$(dirname "$0")/../dist/bin/berth-main.js"
# A memory limit (a container's --memory, a cgroup's) is not one V8 keeps to: Node reads it
# (process.constrainedMemory()) and sizes the young generation from it, but lets the heap reach
# 262 MB under a 128 MiB limit, so V8 may collect later than the kernel kills (an old generation
# larger than the limit got a handler OOM-killed by the fleet bench's backlog). Under a limit the
# old generation gets half of it, the rest is for code, buffers and the young generation
# (docs/operating.md#memory). A --max-old-space-size in NODE_OPTIONS wins.
heap=""
case "${NODE_OPTIONS:-}" in
*max-old-space-size*) ;;
*)
  mib=$(node -p 'const l = process.constrainedMemory(); l > 0 && l < require("node:os").totalmem() ? Math.floor(l / 2 ** 21) : ""')
  if [ -n "$mib" ]; then heap="--max-old-space-size=$mib"; fi
  ;;
esac
if [ "$1" = emitter ]; then exec node --lite-mode $heap "$main" "$@"; fi
exec node $heap "$main" "$@"
