# sensoterra-sync: `docker compose up` builds this. Inside the container the receiver listens on 0.0.0.0.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY jobs ./jobs
COPY sql ./sql
# the service and its jobs only: no tests, no benchmarks in the image
RUN npm run build:ship && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production PUSH_HOST=0.0.0.0
# a long-running worker with DuckDB in it stays smaller with fewer malloc arenas and a small young generation
# (measured in BENCHMARKS.md)
ENV MALLOC_ARENA_MAX=2 NODE_OPTIONS=--max-semi-space-size=4
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY sql ./sql
RUN mkdir -p /data && chown node:node /data
EXPOSE 8080 9464
USER node
CMD ["node", "dist/src/cli/main.js", "start", "--role", "all"]
