# syntax=docker/dockerfile:1
# Portico's container image. Build: docker build -t portico .
#
# Two stages: `build` installs every dependency, compiles the TypeScript and packs exactly what
# the npm package ships (package.json "files": no tests, no sources, no maps); `runtime` installs
# the production dependencies from the lockfile beside that package and runs as the non-root
# `node` user. test/ship/dockerfile.test.ts executes these steps in a clean folder, so keep to
# WORKDIR, ENV, COPY and RUN with paths relative to the WORKDIR.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY bin ./bin
COPY src ./src
COPY demo ./demo
COPY bench ./bench
# the admin UI: its sources and the esbuild step that bundles them into dist/ui
COPY ui ./ui
COPY scripts/build-ui.ts ./scripts/
RUN npm run build && npm pack --silent && tar -xzf portico-*.tgz

FROM node:20-bookworm-slim AS runtime
LABEL org.opencontainers.image.title="portico" \
      org.opencontainers.image.description="Kong-compatible API gateway on Node.js with Redis as shared state" \
      org.opencontainers.image.licenses="Apache-2.0"
WORKDIR /app
COPY --from=build /app/package/ ./
COPY package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && rm -rf "$HOME/.npm"
# the starter of `portico init` until a file is mounted over it
RUN mkdir conf && node bin/portico.js init conf/portico.yaml
# Every setting of `portico start` is a PORTICO_* variable (docs/settings.md). The image listens
# on every interface: the proxy on 8000, the status listener (/healthz, /metrics) on 8100. The
# Admin API stays on loopback unless PORTICO_ADMIN_LISTEN and PORTICO_ADMIN_TOKEN are set
# (a non-loopback Admin API refuses to start without a token).
# The declarative file is /app/conf/portico.yaml: mount yours there (a ConfigMap in Kubernetes).
ENV NODE_ENV=production \
    PORTICO_PROXY_LISTEN=0.0.0.0:8000 \
    PORTICO_STATUS_LISTEN=0.0.0.0:8100 \
    PORTICO_ADMIN_LISTEN=127.0.0.1:8001 \
    PORTICO_DECLARATIVE_CONFIG=conf/portico.yaml \
    PORTICO_DRAIN_TIMEOUT=20000
USER node
EXPOSE 8000 8001 8100
# SIGTERM stops accepting and finishes in-flight requests for up to PORTICO_DRAIN_TIMEOUT ms
# (20 s): the compose stacks set stop_grace_period: 30s and the Kubernetes Deployment
# terminationGracePeriodSeconds: 30 (5 s preStop + 20 s drain), so the drain ends before SIGKILL.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=4s --start-period=10s --retries=3 CMD ["node", "bin/portico.js", "health"]
ENTRYPOINT ["node", "bin/portico.js"]
CMD ["start"]
