# One image for both processes: `docker run berth emitter` or `docker run berth handler`.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY common ./common
COPY schemas ./schemas
COPY emitter ./emitter
COPY handler ./handler
# Runs as the image's unprivileged `node` user; the emitter needs read access to the Docker
# socket, which compose grants through the socket's group (DOCKER_GID).
USER node
ENTRYPOINT ["node", "/app/bin/berth.js"]
CMD ["handler"]
