// The stock @apollo/gateway (same version as the application's) with Apollo Server, for `npm run bench`:
// the supergraph SDL from BENCH_SUPERGRAPH, its own RemoteGraphQLDataSource, no routing by country.
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { ApolloServerPluginLandingPageDisabled, ApolloServerPluginUsageReportingDisabled } from '@apollo/server/plugin/disabled';
import { readFileSync } from 'node:fs';

process.env.APOLLO_TELEMETRY_DISABLED = '1';
const gateway = new ApolloGateway({ supergraphSdl: readFileSync(process.env.BENCH_SUPERGRAPH, 'utf8') });
const server = new ApolloServer({ gateway, plugins: [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginUsageReportingDisabled()], stopOnTerminationSignals: false });
const { url } = await startStandaloneServer(server, { listen: { port: 0, host: '127.0.0.1' } });
process.send({ type: 'ready', url });
const stop = () => server.stop().finally(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('disconnect', stop);
