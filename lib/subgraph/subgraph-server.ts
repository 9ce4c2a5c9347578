import { randomUUID } from 'node:crypto';
import type { Caller } from '../server/request-context.js';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import type { Database } from '../database/database.js';
import { rootLogger, type Logger } from '../logging/logger.js';
import { migrateSchema } from '../database/migrate.js';
import { migrateAlerts } from '../alerts/alerts-schema.js';
import { applyAccessPolicy } from '../access/access-policy.js';
import { loadSdl } from '../schema/contract.js';
import { startGraphQLServer, type RunningServer } from '../server/http-server.js';
import { entityLimitPlugin } from '../security/entity-limit.js';
import { memoryNonceStore, type NonceStore } from '../security/nonce-store.js';
import { requestVerifier } from '../security/request-verifier.js';
import type { SigningOptions } from '../security/signing-secret.js';
import { logRequestErrors, maskInternalErrors } from '../server/mask-errors.js';
import { requestMetricsPlugin } from '../metrics/request-metrics.js';
import type { SiblingClient } from './sibling-client.js';
import type { AlertsDeps, GraphQLResolverMap, NodeIdentity, SubgraphContext, SubgraphDeps, SubgraphModule } from './subgraph-module.js';

export interface SubgraphServerOptions {
  node: NodeIdentity;
  database: Database;
  siblings: SiblingClient;
  port?: number;
  host?: string;
  /** With a secret, every request must be signed with it (lib/security); without, none is checked. */
  signing?: SigningOptions;
  /** Where nonces of accepted requests are remembered; share one across a node's subgraphs. */
  nonces?: NonceStore;
  /** The node's logger (default the root one); the subgraph logs through a child naming it. */
  logger?: Logger;
  /** Benchmark only (see RegistryNodeOptions): every unsigned request acts as this caller. */
  unsignedCallerForBenchmark?: Caller;
  alerts?: AlertsDeps;
}

/** A readiness probe must answer promptly: a database slower than this counts as not ready. */
const READY_PING_MS = 1_500;

function pingWithin(database: Database, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the database did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([database.ping(), late]).finally(() => clearTimeout(timer));
}

/** Migrates the subgraph's schema, then serves it over HTTP. */
export async function startSubgraph<DB, L, R extends object>(
  module: SubgraphModule<DB, L, R>,
  options: SubgraphServerOptions,
): Promise<RunningSubgraph> {
  const db = options.database.forSchema<DB>(module.schema);
  // The shared alert outbox first: the lifecycle, product-models and enterprises writes append to it
  // (lib/alerts/outbox.ts), however the subgraph is started (a node, --only, a test).
  await migrateAlerts(options.database);
  await migrateSchema(db, module.schema, module.migrations);
  const deps: SubgraphDeps<DB> = { node: options.node, db, siblings: options.siblings, alerts: options.alerts };
  const apollo = new ApolloServer<SubgraphContext<L>>({
    // The generated resolver types are checked against the SDL; buildSubgraphSchema's map is looser.
    // Who may read and write what is decided here, once, for every path that reaches a field (lib/access).
    schema: applyAccessPolicy(buildSubgraphSchema({ typeDefs: parse(loadSdl(module.name)), resolvers: module.resolvers(deps) as GraphQLResolverMap })),
    // Traces cost time on every request and no gateway here asks for them. Cache hints are not used
    // either, and computing them wraps every field's resolver (per-field work on 1,000-entity batches).
    plugins: [ApolloServerPluginInlineTraceDisabled(), ApolloServerPluginCacheControlDisabled(), ApolloServerPluginLandingPageDisabled(), logRequestErrors({ clientErrors: 'debug' }), requestMetricsPlugin(module.name), entityLimitPlugin()],
    includeStacktraceInErrorResponses: false,
    formatError: maskInternalErrors(),
    stopOnTerminationSignals: false, // lib/server/shutdown.ts drains then exits 0; Apollo's would re-kill
  });
  const log = (options.logger ?? rootLogger()).child({ service: module.name, country: options.node.country });
  const server = await startGraphQLServer(
    {
      apollo,
      context: async (request) => ({ ...request, loaders: module.loaders(deps) }),
      ready: () => pingWithin(options.database, READY_PING_MS),
      verifyRequest: options.signing
        ? requestVerifier({ secret: options.signing.secret, nonces: options.nonces ?? memoryNonceStore() })
        : undefined,
      authenticate: options.unsignedCallerForBenchmark && !options.signing ? async () => options.unsignedCallerForBenchmark! : undefined,
      log,
    },
    options.port ?? 0,
    options.host,
  );
  return {
    ...server,
    // In-process, never over the network: the node's own process acting as itself (its demo data, say).
    async execute(query, variables, caller) {
      const requestId = `local-${randomUUID()}`;
      const context = { requestId, caller, log: log.child({ requestId }), loaders: module.loaders(deps) } as SubgraphContext<L>;
      const response = await apollo.executeOperation({ query, variables }, { contextValue: context });
      return response.body.kind === 'single' ? response.body.singleResult : { errors: [{ message: 'incremental delivery is not used here' }] };
    },
  };
}

export interface RunningSubgraph extends RunningServer {
  /** Runs an operation in this process as `caller`, through the same schema and rights as a request. */
  execute(query: string, variables: Record<string, unknown> | undefined, caller: Caller | null): Promise<{ data?: unknown; errors?: readonly { message: string; extensions?: Record<string, unknown> }[] }>;
}
