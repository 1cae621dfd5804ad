# One image for both processes and the CLI: `docker run berth emitter|handler|status|explain`.
# berth runs its TypeScript through tsx (a runtime dependency, registered by bin/berth.js): no build
# step, so the image runs exactly the files the tests run. test/packaging.test.ts builds this
# layout without a base image (the COPY and RUN lines below, as written) and runs it as uid 1000.
ARG NODE_IMAGE=node:20-bookworm-slim

# Production dependencies only; --ignore-scripts: none is needed (esbuild, under tsx, ships its
# binary as a platform package; dockerode's optional ssh2/cpu-features build is not used).
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
# Owned by root, read-only to the process. Only what bin/berth.js can reach is copied.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY cli ./cli
COPY common ./common
COPY emitter ./emitter
COPY handler ./handler
COPY schemas ./schemas
# The base image's unprivileged `node` user, by number so that runAsNonRoot-style checks can
# verify it. The emitter reads the Docker socket through the socket's group (compose: group_add).
USER 1000:1000
ENTRYPOINT ["node", "/app/bin/berth.js"]
CMD ["handler"]
