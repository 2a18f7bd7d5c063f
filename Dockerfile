# syntax=docker/dockerfile:1
# Outport: one image for every role (OUTPORT_ROLES=api | scheduler | worker, or a comma-separated mix).
#
#   docker build -t outport .
#   docker build -t outport:embedded --build-arg EMBEDDED_ENGINES=true .   # also ships embedded Postgres/ClickHouse
#
# The runtime stage holds what `node dist/src/main.js` loads and nothing else: scripts/package-check.js copies
# exactly the files this Dockerfile copies from the build stage (the `COPY --from=build` lines below) to test them.

ARG NODE_VERSION=22

FROM node:${NODE_VERSION}-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Install scripts are not needed to compile (the engines' own scripts only matter where they run).
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN node scripts/build.js --force

FROM node:${NODE_VERSION}-slim AS runtime
# true: keep the embedded engines (chdb, embedded-postgres; ~600 MB) for an all-in-one container without servers.
ARG EMBEDDED_ENGINES=false
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    OUTPORT_ROLES=api,scheduler,worker \
    OUTPORT_DATA_DIR=/var/lib/outport
WORKDIR /app
COPY --from=build /src/package.json /src/package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    if [ "$EMBEDDED_ENGINES" = true ]; then npm ci --omit=dev --no-audit --no-fund; \
    else npm ci --omit=dev --omit=optional --no-audit --no-fund; fi \
 && mkdir -p /var/lib/outport && chown node:node /var/lib/outport
COPY --from=build /src/dist/src ./dist/src
COPY --from=build /src/dist/plugins ./dist/plugins
COPY --from=build /src/dashboard/dist ./dashboard/dist
# The embedded ClickHouse server is plain JS that embedded-clickhouse.ts forks from src/source/.
COPY --from=build /src/src/source/*.js ./src/source/
USER node
EXPOSE 8000
# A process without the api role serves /healthz on HEALTH_PORT (default: PORT).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.HEALTH_PORT || process.env.PORT || 8000}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/src/main.js"]
