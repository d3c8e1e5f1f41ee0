# One image for every operator command, each running the compiled dist/ (no TypeScript at start):
#   docker run IMAGE [api]                 the API (PORT, default 3000)
#   docker run IMAGE worker                a sync worker (probes on WORKER_HTTP_PORT, default 3001)
#   docker run IMAGE migrate               apply migrations and exit
#   docker run IMAGE sync run|status|…     the sync CLI
#   docker run IMAGE apikey --role admin   a new API key and its API_KEYS entry
# It runs as `node` and writes nothing to its filesystem: `docker run --read-only` works.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
# The reviewed fixes to dependencies (patches/, docs/postgres-driver.md), which `--ignore-scripts`
# would skip: applied here, and the patched package copied into the runtime below.
RUN npm ci --no-audit --no-fund --ignore-scripts && npx patch-package --error-on-fail --error-on-warn
COPY tsconfig.json tsconfig.build.json build.ts ./
COPY src ./src
COPY workers ./workers
RUN npm run build

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# --omit=optional too: PGlite (dev only) is an optional peer of drizzle-orm, which npm keeps otherwise.
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund --ignore-scripts && npm cache clean --force
# postgres as patched in the build stage: npm installs it as published.
COPY --from=build /app/node_modules/postgres ./node_modules/postgres
COPY --from=build /app/dist ./dist
COPY drizzle ./drizzle
COPY docker/entrypoint.sh /usr/local/bin/erp-bridge
USER node
EXPOSE 3000 3001
# Probes the port of the process the container runs (the API's or the worker's); see the entrypoint.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 CMD ["erp-bridge", "healthcheck"]
ENTRYPOINT ["erp-bridge"]
CMD ["api"]
