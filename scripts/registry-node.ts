import { parseArgs } from 'node:util';
import { openDatabase } from '../lib/database/database.js';
import { exitOnFailure, stopOnSignals } from '../lib/server/shutdown.js';
import { startRegistryNode } from '../subgraphs/registry-node.js';

/**
 * `npm run registry -- --country DE --port 5000`: a registry node for another country on its own
 * database (the four subgraphs on ports port..port+3, no gateway). Prints the directory entry to add
 * to the gateway's directory file. --demo registers a little data of its own.
 */
const { values } = parseArgs({
  options: {
    country: { type: 'string' },
    port: { type: 'string', default: '5000' },
    name: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    'data-dir': { type: 'string' },
    'database-url': { type: 'string' },
    demo: { type: 'boolean', default: false },
  },
});
const country = (values.country ?? '').toUpperCase();
if (!/^[0-9A-Z]{2}$/.test(country)) {
  console.error('usage: npm run registry -- --country DE [--port 5000] [--name "German registry"] [--data-dir data/registry-DE] [--database-url postgres://...] [--demo]');
  process.exit(2);
}
const port = Number(values.port);
const database = await openDatabase(
  values['database-url'] ? { url: values['database-url'] } : { dataDir: values['data-dir'] ?? `data/registry-${country}` },
).catch(exitOnFailure('open the database'));
const node = await startRegistryNode({
  node: { country, name: values.name ?? `${country} robot registry` },
  database,
  host: values.host,
  ports: { enterprises: port, 'product-models': port + 1, units: port + 2, lifecycle: port + 3 },
});
stopOnSignals(async () => {
  await node.stop();
  await database.close();
});
if (values.demo) await seedPartner(node.urls, country);

console.log(`Registry node for ${country} is up (no gateway). Add this entry to the gateway's directory file
(config/registries.json, or DIRECTORY_FILE for npm start); the gateway picks it up without a restart:

${JSON.stringify({ name: node.node.name, countries: [country], home: false, subgraphs: node.urls }, null, 2)}
`);

/** A partner's own data goes to its own node; the home gateway only ever writes home. */
async function seedPartner(urls: Partial<Record<string, string>>, cc: string): Promise<void> {
  const post = async (url: string, query: string, variables: object) => {
    const body = (await (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) })).json()) as { errors?: { message: string; extensions?: { code?: string } }[] };
    const errors = body.errors?.filter((e) => e.extensions?.code !== 'ALREADY_REGISTERED') ?? [];
    if (errors.length) throw new Error(errors.map((e) => e.message).join('; '));
    return body;
  };
  await post(urls.enterprises!, 'mutation($c: ID!) { registerEnterprise(input: { code: $c, name: "Partner Robotics" }) { code } }', { c: `${cc}PRTN` });
  await post(urls['product-models']!, 'mutation($c: ID!) { registerProductModel(input: { code: $c, name: "P1", category: "humanoid" }) { code } }', { c: `${cc}PRTNP10001` });
  const units = await post(urls.units!, 'mutation($m: ID!) { registerUnits(input: { model: $m, count: 10 }) { code } }', { m: `${cc}PRTNP10001` });
  if ((units as { data?: unknown }).data) console.log(`demo: 10 units of model ${cc}PRTNP10001, e.g. ${cc}PRTNP10001${'1'.padStart(17, '0')}`);
}
