import { databaseConfigFromEnv, openDatabase } from '../lib/database/database.js';
import { DATA_SUBGRAPHS, type DataSubgraphName } from '../lib/schema/contract.js';
import { exitOnFailure, stopOnSignals } from '../lib/server/shutdown.js';
import { startRegistryNode } from './registry-node.js';

/**
 * One subgraph as its own process (docker-compose runs one container per subgraph):
 *   node dist/subgraphs/main.js <enterprises|product-models|units|lifecycle>
 * Environment: DATABASE_URL, COUNTRY, REGISTRY_NAME, PORT, HOST, and the siblings' URLs
 * (ENTERPRISES_URL, PRODUCT_MODELS_URL, UNITS_URL, LIFECYCLE_URL) for writes that check another subgraph.
 */
const name = process.argv[2] as DataSubgraphName;
if (!DATA_SUBGRAPHS.includes(name)) {
  console.error(`usage: node dist/subgraphs/main.js <${DATA_SUBGRAPHS.join('|')}>`);
  process.exit(2);
}
const siblingUrls = Object.fromEntries(
  DATA_SUBGRAPHS.map((sg) => [sg, process.env[`${sg.toUpperCase().replace('-', '_')}_URL`]]).filter(([, url]) => url),
);
const database = await openDatabase(databaseConfigFromEnv(process.env, { dataDir: 'data/registry' })).catch(exitOnFailure('open the database'));
const node = await startRegistryNode({
  node: { country: process.env.COUNTRY ?? 'CN', name: process.env.REGISTRY_NAME ?? 'China national robot registry' },
  database,
  only: [name],
  ports: { [name]: Number(process.env.PORT ?? 4001) },
  host: process.env.HOST ?? '0.0.0.0',
  siblingUrls,
});
console.log(`${name} subgraph of ${node.node.country} at ${node.urls[name]}`);
stopOnSignals(async () => {
  await node.stop();
  await database.close();
});
