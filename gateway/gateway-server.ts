import { ApolloGateway, LocalGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled, ApolloServerPluginUsageReportingDisabled } from '@apollo/server/plugin/disabled';
import { DATA_SUBGRAPHS, DIRECTORY_SUBGRAPH, loadSdl, type DataSubgraphName } from '../lib/schema/contract.js';
import { startGraphQLServer, type RunningServer } from '../lib/server/http-server.js';
import { maskInternalErrors } from '../lib/server/mask-errors.js';
import type { RequestContext } from '../lib/server/request-context.js';
import { directorySubgraphSchema } from './directory/directory-subgraph.js';
import type { RegistryDirectory } from './directory/registry-directory.js';
import { landingPage } from './landing-page.js';
import { RegistryClient } from './routing/registry-client.js';
import { RoutingDataSource } from './routing/routing-data-source.js';

export interface GatewayOptions {
  /** Read on every fetch, so a new directory takes effect for the next fetch. */
  directory: () => RegistryDirectory;
  /** Defaults to the checked-in schema/supergraph.graphql. */
  supergraphSdl?: string;
  /** Per-fetch timeout towards registry nodes. */
  timeoutMs?: number;
  examples?: { title: string; query: string }[];
}

/** Builds the gateway without listening, so tests and the start script share one definition. */
export function createGateway(options: GatewayOptions) {
  const client = new RegistryClient({ timeoutMs: options.timeoutMs });
  const directorySchema = directorySubgraphSchema(options.directory);
  const supergraphSdl = options.supergraphSdl ?? loadSdl('supergraph');
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ name }) => {
      if (name === DIRECTORY_SUBGRAPH) return new LocalGraphQLDataSource(directorySchema);
      if (!(DATA_SUBGRAPHS as readonly string[]).includes(name)) throw new Error(`supergraph names an unknown subgraph "${name}"`);
      return new RoutingDataSource(name as DataSubgraphName, options.directory, client);
    },
  });
  const apollo = new ApolloServer<RequestContext>({
    gateway,
    plugins: [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginUsageReportingDisabled()],
    includeStacktraceInErrorResponses: false,
    formatError: maskInternalErrors('gateway'),
  });
  return { apollo, gateway };
}

export async function startGateway(options: GatewayOptions & { port?: number; host?: string }): Promise<RunningServer> {
  const { apollo, gateway } = createGateway(options);
  return startGraphQLServer(
    {
      apollo,
      context: async (request) => request,
      ready: () => gateway.serviceHealthCheck().then(() => undefined),
      landingPage: landingPage(options.examples ?? []),
    },
    options.port ?? 0,
    options.host,
  );
}
