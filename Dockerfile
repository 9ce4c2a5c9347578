# One image for every service; docker-compose.yml picks the command per service.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY lib lib
COPY gateway gateway
COPY subgraphs subgraphs
COPY scripts scripts
COPY schema schema
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
COPY schema schema
COPY config config
# GS1's EPCIS 2.0 JSON schema: POST /epcis/capture validates against it at run time.
COPY vendor vendor
# Production: the subgraphs refuse to start without NODE_SIGNING_SECRET, the gateway without JWKS_FILE or
# JWKS_URL, JWT_ISSUER and JWT_AUDIENCE (docs/directory.md, "Running with docker compose").
# Entry points: dist/scripts/registry-node.js [--only <subgraph|audit>] (the only one that opens the database),
# dist/scripts/gateway.js, and dist/scripts/start.js, the launcher running both (embedded database in
# /app/data; set HOST=0.0.0.0 to publish its port). docker-compose.yml picks one per service.
RUN mkdir data && chown node data
USER node
CMD ["node", "dist/scripts/start.js"]
