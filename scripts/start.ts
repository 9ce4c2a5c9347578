import { unwatchFile, watchFile } from 'node:fs';
import { databaseConfigFromEnv, openDatabase } from '../lib/database/database.js';
import { exitOnFailure, stopOnSignals } from '../lib/server/shutdown.js';
import { readDirectoryFile } from '../gateway/directory/registry-directory.js';
import { startGateway } from '../gateway/gateway-server.js';
import { identityFromEnv } from '../gateway/identity/identity-from-env.js';
import { startRegistryNode } from '../subgraphs/registry-node.js';
import { exampleQueries } from './demo/examples.js';
import { seedDemoData, DEMO_CODES, VERDICT_EXAMPLES } from './demo/seed.js';

/**
 * `npm start`: the home registry node (four subgraphs) and the gateway in one process, on the embedded
 * database persisted in ./data (or DATABASE_URL), seeded with demo data on first start.
 */
const port = Number(process.env.PORT ?? 4000);
const host = process.env.HOST ?? '127.0.0.1';
const country = process.env.COUNTRY ?? 'CN';
const config = databaseConfigFromEnv(process.env, { dataDir: 'data/registry' });
// Before anything starts: NODE_ENV=production without JWKS settings stops here with the reason.
const identity = await identityFromEnv({ dataDir: process.env.DATA_DIR ?? 'data', env: process.env }).catch(exitOnFailure('configure caller identity'));

const database = await openDatabase(config).catch(exitOnFailure('open the database'));
const node = await startRegistryNode({
  node: { country, name: process.env.REGISTRY_NAME ?? 'China national robot registry' },
  database,
  host,
  ports: { enterprises: port + 1, 'product-models': port + 2, units: port + 3, lifecycle: port + 4 },
});
// The home node is always in the directory; DIRECTORY_FILE may add partner registries and extensions
// (re-read when it changes). Its home entry, if any, is replaced by the node started here.
const homeEntry = { name: node.node.name, countries: [country], home: true, subgraphs: node.urls };
const directoryFile = process.env.DIRECTORY_FILE;
const withHome = (file: string | undefined) => ({
  registries: [homeEntry, ...(file ? ((readDirectoryFile(file) as { registries?: { home?: boolean }[] }).registries ?? []).filter((r) => !r.home) : [])],
});
const examples = exampleQueries(DEMO_CODES);
const gateway = await startGateway({ directory: withHome(directoryFile), port, host, examples, identity });
if (directoryFile) {
  watchFile(directoryFile, { interval: 1_000 }, () => {
    try {
      void gateway.store.apply(withHome(directoryFile));
    } catch (error) {
      console.error(`directory refused, the last good one keeps serving: ${(error as Error).message}`);
    }
  });
}
stopOnSignals(async () => {
  if (directoryFile) unwatchFile(directoryFile);
  await gateway.stop();
  await node.stop();
  await database.close();
});

const seeded = await seedDemoData(gateway.url);
console.log(`
Robot identity registry federation
  database : ${config.url ? 'Postgres (DATABASE_URL)' : `embedded PGlite in ${config.dataDir}`}
  demo data: ${seeded ? 'seeded now' : 'already present'}
  directory: ${directoryFile ? `home + partners from ${directoryFile} (watched)` : 'home registry only (set DIRECTORY_FILE to add partners)'}
  identity : ${identity.description}
  subgraphs: ${Object.entries(node.urls).map(([name, url]) => `${name} ${url}`).join(', ')}

GraphQL endpoint (open it in a browser for a query page, or POST JSON to it):
  ${gateway.url}

Example codes:
  unit          ${DEMO_CODES.unit}   (display ${DEMO_CODES.unit.slice(0, 2)}-${DEMO_CODES.unit.slice(2, 6)}-${DEMO_CODES.unit.slice(6, 12)}-${DEMO_CODES.unit.slice(12)})
  product model ${DEMO_CODES.model}
  enterprise    ${DEMO_CODES.enterprise}

One code per customs verdict reason (try verify(code: ...)):
${Object.entries(VERDICT_EXAMPLES).map(([reason, code]) => `  ${reason.padEnd(26)} ${code}`).join('\n')}

Try:
  curl -s ${gateway.url} -H 'content-type: application/json' \\
    -d '{"query":"{ unit(code: \\"${DEMO_CODES.unit}\\") { display state model { name } enterprise { name } } }"}'

${examples.map((e) => `# ${e.title}\n${e.query}`).join('\n\n')}

Ctrl+C stops everything.`);
