// First: graphql decides its development checks when it loads (see the module).
import '../lib/server/graphql-production-checks.js';
import { parseArgs } from 'node:util';
import { openDatabase } from '../lib/database/database.js';
import { createLogger, rootLogger, setRootLogger } from '../lib/logging/logger.js';
import { DATA_SUBGRAPHS, NODE_SUBGRAPHS, type NodeSubgraphName } from '../lib/schema/contract.js';
import { installProcessGuard } from '../lib/server/process-guard.js';
import { exitOnFailure, stopOnSignals } from '../lib/server/shutdown.js';
import { alertTargetsFromFile } from '../lib/alerts/alert-targets-file.js';
import { startRegistryNode, type NodeAlertsOptions } from '../subgraphs/registry-node.js';
import { DEFAULT_REGISTRY_PORT, hostFrom, parsePort, registryDatabase, subgraphPorts } from './process-defaults.js';
import { partnerEntryMessage } from './partner-entry-message.js';
import { reportReady } from './ready-message.js';

/**
 * A registry node: the four subgraphs and the audit log of one country over one database, no gateway
 * (the only process that opens the database). `npm run registry -- --country DE --port 5000` on its own;
 * `npm start` forks it; docker-compose runs one subgraph per container with `--only <subgraph>` (audit too).
 * Flags win over the environment: --country/COUNTRY, --name/REGISTRY_NAME, --port/PORT (default 5000:
 * the subgraphs on port..port+3 and the audit log on port+4, 0 for free ports), --host/HOST, --database-url/DATABASE_URL,
 * --data-dir/DATA_DIR (default data/registry-<country>). With --only, the siblings' URLs come from
 * ENTERPRISES_URL, PRODUCT_MODELS_URL, UNITS_URL, LIFECYCLE_URL (writes that check another subgraph).
 */
const usage = `usage: npm run registry -- --country DE [--port 5000] [--name "German registry"] [--data-dir data/registry-DE] [--database-url postgres://...] [--demo] [--only <${NODE_SUBGRAPHS.join('|')}>]`;
setRootLogger(createLogger({ name: 'registry-node' }));
const log = rootLogger();
installProcessGuard(log);
const env = process.env;
const { values } = parseArgs({
  options: {
    country: { type: 'string' },
    port: { type: 'string' },
    name: { type: 'string' },
    host: { type: 'string' },
    'data-dir': { type: 'string' },
    'database-url': { type: 'string' },
    only: { type: 'string' },
    demo: { type: 'boolean', default: false },
  },
});
const country = (values.country ?? env.COUNTRY ?? '').toUpperCase();
const only = values.only as NodeSubgraphName | undefined;
let port: number;
try {
  if (!/^[0-9A-Z]{2}$/.test(country)) throw new Error('--country (or COUNTRY) must be a 2-character country code');
  if (only !== undefined && !NODE_SUBGRAPHS.includes(only)) throw new Error(`--only must be one of ${NODE_SUBGRAPHS.join(', ')}`);
  if (values.demo && only) throw new Error('--demo needs the whole node, not --only');
  port = parsePort(values.port ?? env.PORT, DEFAULT_REGISTRY_PORT, '--port (or PORT)');
} catch (error) {
  console.error(`${(error as Error).message}\n${usage}`);
  process.exit(2);
}
const siblingUrls = Object.fromEntries(
  DATA_SUBGRAPHS.map((sg) => [sg, env[`${sg.toUpperCase().replace('-', '_')}_URL`]]).filter(([sg, url]) => url && sg !== only),
);
const { config: databaseConfig, describe: databaseDescription } = registryDatabase({ databaseUrl: values['database-url'], dataDir: values['data-dir'] }, env, country);
log.info(`database: ${databaseDescription}`);
const database = await openDatabase(databaseConfig).catch(exitOnFailure('open the database'));
const node = await startRegistryNode({
  node: { country, name: values.name ?? env.REGISTRY_NAME ?? `${country} robot registry` },
  database,
  host: values.host ?? hostFrom(env),
  // --only: that subgraph on PORT; the whole node: the data subgraphs on port..port+3, its audit log on port+4.
  ports: only ? { [only]: port } : subgraphPorts(port, NODE_SUBGRAPHS),
  only: only ? [only] : undefined,
  siblingUrls,
  alerts: alertSettings(),
}).catch(exitOnFailure('start the subgraphs'));
stopOnSignals(async () => {
  await node.stop();
  await database.close();
});
log.info(`${only ?? 'registry node'} of ${country} on ${databaseDescription}: ${Object.values(node.urls).join(', ')}`);
if (values.demo) await seedPartner(node, country).catch(exitOnFailure('seed the demo data'));

if (process.send) {
  // Forked by `npm start`: the launcher builds the gateway's directory from this.
  reportReady({ type: 'ready', role: 'registry-node', pid: process.pid, country, name: node.node.name, urls: node.urls });
} else if (!only) {
  console.log(partnerEntryMessage(node.node.name, country, node.urls));
}

/**
 * A partner's own data goes to its own node; the home gateway only ever writes home. Written in-process as
 * the node itself: no credential is needed, and none is opened on the network.
 */
async function seedPartner(running: typeof node, cc: string): Promise<void> {
  const post = async (subgraph: NodeSubgraphName, query: string, variables: Record<string, unknown>) => {
    const body = await running.execute(subgraph, query, variables);
    const errors = body.errors?.filter((e) => e.extensions?.code !== 'ALREADY_REGISTERED') ?? [];
    if (errors.length) throw new Error(errors.map((e) => e.message).join('; '));
    return body;
  };
  await post('enterprises', 'mutation($c: ID!) { registerEnterprise(input: { code: $c, name: "Partner Robotics" }) { code } }', { c: `${cc}PRTN` });
  await post('product-models', 'mutation($c: ID!) { registerProductModel(input: { code: $c, name: "P1", category: "humanoid" }) { code } }', { c: `${cc}PRTNP10001` });
  // requestKey: a second --demo start answers the same ten units instead of issuing ten more.
  const units = await post('units', 'mutation($m: ID!) { registerUnits(input: { model: $m, count: 10, requestKey: "demo-seed" }) { code } }', { m: `${cc}PRTNP10001` });
  if ((units as { data?: unknown }).data) console.log(`demo: 10 units of model ${cc}PRTNP10001, e.g. ${cc}PRTNP10001${'1'.padStart(17, '0')}`);
}

/** Push alerts (docs/alerts.md): the partners' alertUrls come from the directory file the gateway reads. */
function alertSettings(): NodeAlertsOptions {
  const number = (name: string) => {
    const text = env[name];
    if (text === undefined || text === '') return undefined;
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1) exitOnFailure(`read ${name}`)(new Error(`${name} must be a positive integer, got ${JSON.stringify(text)}`));
    return value;
  };
  const settings: NodeAlertsOptions = { targetsFor: alertTargetsFromFile(env.DIRECTORY_FILE, env.ALERTS_ALLOW_PRIVATE === '1', log) };
  const maxAttempts = number('ALERTS_MAX_ATTEMPTS');
  const leaseMs = number('ALERTS_LEASE_MS');
  const pollMs = number('ALERTS_POLL_MS');
  return { ...settings, ...(maxAttempts && { maxAttempts }), ...(leaseMs && { leaseMs }), ...(pollMs && { pollMs }) };
}
