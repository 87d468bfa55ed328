# One image for every Callboard service (ingest, projections, api + wallboard, simulator):
# docker-compose.yml picks the command. Services run from TypeScript through tsx (no build
# step); only the wallboard is built, by Vite, and served by the API.
FROM node:22-slim

ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    CALLBOARD_DATA_DIR=/var/lib/callboard
WORKDIR /app

# Manifests first, so the dependency layer is reused until a package.json or the lock changes.
COPY package.json package-lock.json ./
COPY platform/package.json platform/
COPY schemas/package.json schemas/
COPY ingest/package.json ingest/
COPY simulator/package.json simulator/
COPY projections/package.json projections/
COPY api/package.json api/
COPY wallboard/package.json wallboard/
# Dev dependencies are needed at run time (tsx runs the sources) and to build the wallboard.
# `npm ci` refuses a lock file written on a registry that lacks other platforms' optional
# packages; `npm install` then resolves the same versions from the lock (see .ci/run).
RUN npm ci --include=dev --no-audit --no-fund || npm install --include=dev --no-audit --no-fund

COPY . .
RUN npm run build -w wallboard \
 && mkdir -p /var/lib/callboard \
 && chown node:node /var/lib/callboard

USER node
# 4000: API + wallboard. 9464/9465: ops (/healthz, /readyz, /metrics) of ingest and projections.
EXPOSE 4000 9464 9465
ENTRYPOINT ["node", "bin/callboard.mjs"]
CMD ["--help"]
