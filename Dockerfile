# Sealgate: multi-stage build on Node 22 LTS, runs as a non-root user.
#   docker build -t sealgate .
#   docker run -d -p 25:2525 -v sealgate-data:/var/lib/sealgate \
#     -v /etc/sealgate:/etc/sealgate:ro sealgate
FROM node:22-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json .prebuild-installrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:22-bookworm-slim
ENV NODE_ENV=production
# large buffers mmap'd and given back when freed (inspection memory, docs/performance.md)
ENV MALLOC_MMAP_THRESHOLD_=131072
RUN groupadd --system sealgate && useradd --system --gid sealgate --home /var/lib/sealgate --shell /usr/sbin/nologin sealgate \
 && mkdir -p /var/lib/sealgate /etc/sealgate && chown sealgate:sealgate /var/lib/sealgate && chmod 0700 /var/lib/sealgate
WORKDIR /opt/sealgate
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY config/sealgate.example.yaml ./config/sealgate.example.yaml
# the connector presets' dated ranges files (kind m365 / workspace, docs/connectors.md)
COPY config/ranges ./config/ranges
USER sealgate
VOLUME ["/var/lib/sealgate"]
EXPOSE 2525 25 587
# The config is mounted at /etc/sealgate/sealgate.yaml (create one with
# "sealgate init"); its dataDir should be /var/lib/sealgate and its listener
# host "0.0.0.0" or "::". SEALGATE_HEALTH_PORT names the port the health check
# probes (default 2525).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD node -e "const s=require('net').connect(Number(process.env.SEALGATE_HEALTH_PORT||2525),'127.0.0.1');s.once('data',d=>process.exit(String(d).startsWith('220')?0:1));s.once('error',()=>process.exit(1));setTimeout(()=>process.exit(1),4000)"
ENTRYPOINT ["node", "/opt/sealgate/dist/cli/main.js"]
CMD ["-c", "/etc/sealgate/sealgate.yaml", "start"]
