// Hive Gateway (The Guild) in a process of its own, for `npm run bench`: the supergraph SDL from the file
// named by BENCH_SUPERGRAPH, planned by its JavaScript planner or, with BENCH_PLANNER=rust, by the Rust
// query planner of @graphql-hive/router-runtime. Served with node:http; logging off, otherwise defaults.
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';
import http from '@graphql-mesh/transport-http';

const supergraph = readFileSync(process.env.BENCH_SUPERGRAPH, 'utf8');
const rust = process.env.BENCH_PLANNER === 'rust';
const gateway = createGatewayRuntime({
  supergraph,
  transports: { http },
  logging: false,
  ...(rust ? { unifiedGraphHandler: (await import('@graphql-hive/router-runtime')).unifiedGraphHandler } : {}),
});
const server = createServer(gateway);
server.listen(0, '127.0.0.1', () => {
  process.send({ type: 'ready', url: `http://127.0.0.1:${server.address().port}/graphql`, planner: rust ? 'rust' : 'js' });
});
const stop = () => server.close(() => gateway[Symbol.asyncDispose]().finally(() => process.exit(0)));
process.once('SIGTERM', stop);
process.once('disconnect', stop);
