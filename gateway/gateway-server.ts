import { ApolloGateway, LocalGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled, ApolloServerPluginUsageReportingDisabled } from '@apollo/server/plugin/disabled';
import { DATA_SUBGRAPHS, DIRECTORY_SUBGRAPH, type DataSubgraphName } from '../lib/schema/contract.js';
import { startGraphQLServer, type RunningServer } from '../lib/server/http-server.js';
import { maskInternalErrors } from '../lib/server/mask-errors.js';
import { directorySubgraphSchema } from './directory/directory-subgraph.js';
import { DirectoryStore, type StoreOptions } from './directory/directory-store.js';
import { landingPage } from './landing-page.js';
import { limitsConfigFromEnv, type LimitsConfig } from './limits/limits-config.js';
import { gatewayLimits, type LimitsContext } from './limits/limits-plugin.js';
import { pageSecurityHeaders } from './limits/page-headers.js';
import { ExtensionDataSource } from './routing/extension-data-source.js';
import { RegistryClient } from './routing/registry-client.js';
import { RoutingDataSource } from './routing/routing-data-source.js';

export interface GatewayOptions {
  /** The registry directory (docs/directory.md), as parsed JSON, or a store already built from one. */
  directory: unknown;
  /** Directory file to watch: changes are applied without a restart. */
  directoryFile?: string;
  store?: StoreOptions;
  /** How often each registry is probed for `registries { reachable }` and /health/ready. */
  probeIntervalMs?: number;
  examples?: { title: string; query: string }[];
  /** Abuse limits (docs/limits.md), on by default: numbers here override the defaults and the environment. */
  limits?: Partial<LimitsConfig> | false;
}

/** Builds the gateway without listening, so tests and the start script share one definition. */
export async function createGateway(options: GatewayOptions) {
  const store = options.directory instanceof DirectoryStore ? options.directory : await DirectoryStore.create(options.directory, options.store);
  const client = new RegistryClient();
  const directory = () => store.directory;
  const directorySchema = directorySubgraphSchema(directory, (entry) => client.healthOf(entry).reachable);
  // @apollo/gateway otherwise sends usage metrics to Apollo and probes cloud metadata endpoints at
  // start-up; a registry behind a customs firewall must make no call it was not configured to make.
  // APOLLO_TELEMETRY_DISABLED=0 turns it back on.
  process.env.APOLLO_TELEMETRY_DISABLED ??= '1';
  const gateway = new ApolloGateway({
    // A hook rather than a fixed SDL: a new directory with other extension subgraphs swaps the
    // supergraph in place; requests in flight finish on the one they started with.
    supergraphSdl: async ({ update }) => {
      const off = store.onChange((next, previous) => {
        if (next.supergraphSdl === previous.supergraphSdl) return;
        try {
          update(next.supergraphSdl);
        } catch (error) {
          console.error('[gateway] supergraph update failed; still serving the previous one', error);
        }
      });
      return { supergraphSdl: store.supergraphSdl, cleanup: async () => void off() };
    },
    buildService: ({ name }) => {
      if (name === DIRECTORY_SUBGRAPH) return new LocalGraphQLDataSource(directorySchema);
      if ((DATA_SUBGRAPHS as readonly string[]).includes(name)) return new RoutingDataSource(name as DataSubgraphName, directory, client);
      return new ExtensionDataSource(name, directory, client);
    },
  });
  const limits = options.limits === false ? null : gatewayLimits(limitsConfigFromEnv(process.env, options.limits), () => store.directory.registries.length);
  const apollo = new ApolloServer<LimitsContext>({
    gateway,
    plugins: [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginUsageReportingDisabled(), ...(limits?.plugins ?? [])],
    includeStacktraceInErrorResponses: false,
    formatError: limits ? limits.formatError(maskInternalErrors('gateway')) : maskInternalErrors('gateway'),
    // With limits on, introspection is decided per caller (hidden from anonymous callers in production).
    ...(limits ? { introspection: true, validationRules: limits.validationRules, parseOptions: limits.parseOptions } : {}),
  });
  const probeAll = () => Promise.all(store.directory.registries.map((r) => client.probe(r)));
  return { apollo, gateway, store, client, probeAll, limits };
}

export interface RunningGateway extends RunningServer {
  store: DirectoryStore;
  /** Probes every registry now (tests; otherwise it runs every probeIntervalMs). */
  probeAll(): Promise<unknown>;
}

export async function startGateway(options: GatewayOptions & { port?: number; host?: string }): Promise<RunningGateway> {
  const { apollo, store, client, probeAll, limits } = await createGateway(options);
  const page = landingPage(options.examples ?? []);
  const stopWatching = options.directoryFile ? store.watchFile(options.directoryFile) : () => undefined;
  const probe = setInterval(() => void probeAll(), options.probeIntervalMs ?? 15_000);
  probe.unref();
  void probeAll();
  const server = await startGraphQLServer(
    {
      apollo,
      context: async (request, http) => ({ ...request, clientAddress: http.clientAddress }),
      // Ready while the home registry answers; partners' state is reported, not required.
      ready: async () => {
        const home = await client.probe(store.directory.home);
        const registries = store.directory.registries.map((r) => client.healthOf(r));
        if (!home.reachable) throw Object.assign(new Error(`home registry "${home.name}" is unreachable`), { details: { registries } });
        return { registries };
      },
      landingPage: page,
      landingPageHeaders: pageSecurityHeaders(page),
    },
    options.port ?? 0,
    options.host,
  );
  return {
    ...server,
    store,
    probeAll,
    async stop() {
      clearInterval(probe);
      stopWatching();
      await server.stop();
      await limits?.close();
    },
  };
}
