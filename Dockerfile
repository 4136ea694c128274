# The control-plane image: `mesh controller` built from this repository.
#   docker build -t ghcr.io/mesh-dev/mesh:$(node -p 'require("./package.json").version') .
# Build stage: full dependencies to compile TypeScript.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
COPY src ./src
# The dashboard page (web/) is bundled into dist/ by the build.
COPY web ./web
# The build also records help texts (dist/cli-cache.json) by running the launcher.
COPY bin ./bin
COPY scripts/build-kubeconfig.mjs scripts/build-help-cache.mjs scripts/build-web.mjs ./scripts/
RUN npm run build

# Runtime stage: production dependencies only, the compiled code, the launcher and templates.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
# iptables: the injected mesh-init container runs this image (`mesh proxy-init`) to install the
# traffic redirect; iptables-restore comes from here.
RUN apt-get update && apt-get install -y --no-install-recommends iptables && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /src/dist ./dist
COPY bin ./bin
COPY templates ./templates
COPY proto ./proto
# 65532 matches the Deployment's runAsUser; the root filesystem is mounted read-only, /tmp is an emptyDir.
USER 65532:65532
EXPOSE 15010 15012 15014 15017
ENTRYPOINT ["node", "bin/mesh", "controller"]
