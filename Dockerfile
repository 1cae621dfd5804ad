# One image for both processes and the CLI: `docker run berth emitter|handler|status|explain`.
# The image runs compiled JavaScript (`npm run build`: tsc → dist/, the code bin/berth-main.ts
# reaches): the build is smaller to load than the TypeScript sources. Tests run the same
# TypeScript sources as they are (Node strips the types); npm run bench runs a fresh build as the image does.
# test/packaging-layout.test.ts builds this layout without a base image (the COPY and RUN lines below,
# as written) and runs it as uid 1000.
ARG NODE_IMAGE=node:26-trixie-slim

# The build: every dependency (TypeScript, the schema types) and the runtime sources only.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY bin ./bin
COPY cli ./cli
COPY common ./common
COPY consul ./consul
COPY emitter ./emitter
COPY handler ./handler
COPY mapping ./mapping
COPY schemas ./schemas
RUN npm run build

# Production dependencies only; --ignore-scripts: none of them needs an install script.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
# Owned by root, read-only to the process: the production node_modules, the build,
# package.json (its "type": "module" makes node read dist/ as ES modules) and the entry script.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin/entrypoint.sh ./bin/
# `berth <command>` on PATH too (docker exec <container> berth status): the entry point's wrapper.
COPY bin/berth-on-path.sh /usr/local/bin/berth
# The base image's unprivileged `node` user, by number so that runAsNonRoot-style checks can
# verify it. The emitter reads the Docker socket through the socket's group (compose: group_add).
USER 1000:1000
# node with the flags each process runs with (bin/entrypoint.sh), then dist/bin/berth-main.js.
ENTRYPOINT ["/app/bin/entrypoint.sh"]
CMD ["handler"]
