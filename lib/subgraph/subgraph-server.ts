import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import type { Database } from '../database/database.js';
import { migrateSchema } from '../database/migrate.js';
import { loadSdl } from '../schema/contract.js';
import { startGraphQLServer, type RunningServer } from '../server/http-server.js';
import { maskInternalErrors } from '../server/mask-errors.js';
import type { SiblingClient } from './sibling-client.js';
import type { GraphQLResolverMap, NodeIdentity, SubgraphContext, SubgraphDeps, SubgraphModule } from './subgraph-module.js';

export interface SubgraphServerOptions {
  node: NodeIdentity;
  database: Database;
  siblings: SiblingClient;
  port?: number;
  host?: string;
}

/** Migrates the subgraph's schema, then serves it over HTTP. */
export async function startSubgraph<DB, L, R extends object>(
  module: SubgraphModule<DB, L, R>,
  options: SubgraphServerOptions,
): Promise<RunningServer> {
  const db = options.database.forSchema<DB>(module.schema);
  await migrateSchema(db, module.schema, module.migrations);
  const deps: SubgraphDeps<DB> = { node: options.node, db, siblings: options.siblings };
  const apollo = new ApolloServer<SubgraphContext<L>>({
    // The generated resolver types are checked against the SDL; buildSubgraphSchema's map is looser.
    schema: buildSubgraphSchema({ typeDefs: parse(loadSdl(module.name)), resolvers: module.resolvers(deps) as GraphQLResolverMap }),
    // Traces cost time on every request and no gateway here asks for them.
    plugins: [ApolloServerPluginInlineTraceDisabled(), ApolloServerPluginLandingPageDisabled()],
    includeStacktraceInErrorResponses: false,
    formatError: maskInternalErrors(module.name),
  });
  return startGraphQLServer(
    {
      apollo,
      context: async (request) => ({ ...request, loaders: module.loaders(deps) }),
      ready: () => options.database.ping(),
    },
    options.port ?? 0,
    options.host,
  );
}
