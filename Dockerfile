# syntax=docker/dockerfile:1
#
# Fleetgate: one image for the gateway and for the fake upstream used by deploy/compose.
#
#   docker build -t fleetgate .
#   docker run --rm -p 4000:4000 -v $PWD/config.yaml:/etc/fleetgate/config.yaml:ro \
#     -e REDIS_URL=redis://redis:6379 -e LITELLM_MASTER_KEY=sk-... fleetgate
#   docker run --rm -p 8080:8080 --entrypoint node fleetgate \
#     apps/fake-llm/dist/main.js --host 0.0.0.0 --port 8080
#
# Signals: node runs as PID 1. That is fine here because both programs install SIGTERM/SIGINT
# handlers (PID 1 gets no default signal actions, so a program without handlers would ignore
# `docker stop` until SIGKILL), and neither spawns children other than `--workers` processes, which
# node:cluster reaps itself. Use `docker run --init` (tini) if you add anything that forks.

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS base
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false

# Every workspace's package.json plus the lockfile, found rather than listed, so adding a workspace
# needs no Dockerfile change. The output only changes when a manifest does, which keeps the
# `npm ci` layers below cached across source edits.
FROM base AS manifests
COPY . /src
RUN mkdir -p /manifests \
 && cd /src \
 && cp package.json package-lock.json /manifests/ \
 && find . -name package.json -not -path '*/node_modules/*' -not -path './package.json' \
      -exec cp --parents {} /manifests/ \;

# Production dependencies only (workspace links included). Scripts are off: no runtime
# dependency needs an install script, and it keeps the build free of arbitrary code.
FROM base AS deps
COPY --from=manifests /manifests ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --workspaces --include-workspace-root --ignore-scripts

# Full install + TypeScript build of what the image ships (the gateway, the fake upstream and the
# libraries they reference). `tsc -b` of the whole repo also builds bench/, which is CI's job.
FROM base AS build
COPY --from=manifests /manifests ./
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts
COPY tsconfig.base.json tsconfig.json ./
COPY libs ./libs
COPY apps ./apps
RUN npx tsc -b apps/gateway apps/fake-llm \
 && mkdir -p /out \
 && for d in apps/gateway apps/fake-llm libs/*; do \
      if [ -d "$d/dist" ]; then mkdir -p "/out/$d" && cp -r "$d/dist" "/out/$d/"; fi; \
    done \
 && find /out -name '*.d.ts' -delete -o -name '*.d.ts.map' -delete

FROM ${NODE_IMAGE} AS runtime
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="fleetgate" \
      org.opencontainers.image.description="OpenAI-compatible LLM gateway whose replicas share rate limits in Redis" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="https://github.com/fleetgate/fleetgate"
WORKDIR /app
# PORT is read by the gateway (and the healthcheck below). Change the port with PORT rather than
# --port so the healthcheck follows; an explicit --port wins over PORT.
ENV NODE_ENV=production PORT=4000
# The image runs nothing through npm; removing it drops the scanner findings that come with it.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
           /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /opt/yarn-* \
           /usr/local/bin/yarn /usr/local/bin/yarnpkg \
 && mkdir -p /etc/fleetgate
# Owned by root and read-only for the app user: the gateway writes nothing but stdout.
COPY --from=deps /app ./
COPY --from=build /out ./
# Numeric (the image's `node` user) so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 4000
HEALTHCHECK --interval=15s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/health/liveliness',{signal:AbortSignal.timeout(2500)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "apps/gateway/dist/main.js"]
CMD ["--config", "/etc/fleetgate/config.yaml"]
