# Tollgate's operator image: the bundled CLI (dist/tollgate.js, Tollgate and its dependencies in one file)
# on the official Node 24 image, running as a numeric non-root user on a read-only root filesystem.
#
#   docker build -t tollgate --build-arg VERSION="$(node -p 'require("./package.json").version')" \
#     --build-arg REVISION="$(git rev-parse HEAD)" .
#   docker run --rm tollgate version
#
# Without a Docker daemon, `npm run image:build` builds this file with buildah (scripts/image-build.sh).
# Behind a TLS-inspecting proxy, hand npm the proxy's CA as a build secret: --secret id=npm-ca,src=ca.pem

# node:24.21.0-bookworm-slim, pinned to the digest of its multi-platform index. The build stages use it
# too, so the code is compiled and its dependencies resolved by the Node that runs them.
ARG NODE_IMAGE=docker.io/library/node:24.21.0-bookworm-slim@sha256:2fe369e969550cde8e867afc3fe370b260140cab4a23d467074295b42163d553

# All dependencies, dev included, for the compiler. Only package.json and the lockfile: this layer (the
# one download) is rebuilt when they change, not when the code does. --ignore-scripts: the only install
# script in the tree is the `node` package's, which fetches a second Node 24 the base image already is.
FROM ${NODE_IMAGE} AS modules
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=npm-ca,target=/run/secrets/npm-ca \
    if [ -s /run/secrets/npm-ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm-ca; fi \
    && npm ci --ignore-scripts --no-audit --no-fund --no-update-notifier

# `npm run build`: tsc type-checks src/ into dist/, then scripts/bundle.ts (esbuild) bundles the CLI with
# every dependency it loads into dist/tollgate.js, its source map and the bundled packages' licences.
FROM modules AS build
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts/bundle.ts ./scripts/
RUN npm run build

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and not writable by the user that runs them. No node_modules/: the bundle holds what runs.
# src/version.ts reads ../package.json at run time, so package.json sits one level above dist/. With
# NODE_OPTIONS=--enable-source-maps, stack traces name src/ files and lines (the map costs memory only then).
COPY --from=build /app/dist/tollgate.js /app/dist/tollgate.js.map /app/dist/tollgate.licenses.txt ./dist/
COPY package.json ./
# 65532: a uid that owns nothing on the node or in the image (uid 1000, the image's `node` user, is often
# a real account on hosts), numeric so that runAsNonRoot can verify it. No home directory is needed:
# nothing is written at run time except recording-rule files under an explicit --rules-dir (a volume).
USER 65532:65532
EXPOSE 8080
# Memory flags, measured on tsc's unbundled output (the bundle takes ~10 MiB less at every size; Node
# 24.21.0, 2 cores, one namespace, profiles of 2 SLOs in RecordingRules mode every 30 s; `npm run
# bench:scale`, BENCH_VARIANTS compares launches on the same profiles). At 2,000 profiles (2026-11-30),
# resident set, median of 4 cycles / peak:
#   --max-semi-space-size=4 --max-old-space-size=256        180 / 193 MiB, heap 78 of 86 MiB, 0.11 cores
#   the same with --optimize-for-size                        131 / 189 MiB, heap 41 of 42 MiB, 0.18 cores
#   the first with --max-semi-space-size=1, MALLOC_ARENA_MAX=2  173 / 181 MiB, 0.14 cores
# --max-semi-space-size=4: V8 otherwise lets each young-generation semi-space grow to 64 MiB on a large
# node, and the first pass over the profiles fills it with short-lived objects. --optimize-for-size:
# the old generation grows by less before each collection, so the heap stays near what is live (the
# caches) instead of doubling it with garbage, for about 0.07 cores more at 2,000 profiles.
# --max-old-space-size=256 caps the heap; for more profiles than the README's sizing gives it,
# NODE_OPTIONS=--max-old-space-size-percentage=60 sizes the old space from the container's memory limit
# instead (it takes precedence over --max-old-space-size).
ENTRYPOINT ["node", "--optimize-for-size", "--max-semi-space-size=4", "--max-old-space-size=256", "/app/dist/tollgate.js"]
CMD ["controller"]
# Last, so that a new revision rebuilds only this layer.
ARG VERSION=unknown
ARG REVISION=unknown
ARG SOURCE=""
LABEL org.opencontainers.image.title="tollgate" \
      org.opencontainers.image.description="Kubernetes operator that lets the error budget decide what ships: SLOs from Prometheus, budget-driven freeze and rollback, Istio canaries, circuit breakers and autoscaling from one PerformanceProfile." \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
