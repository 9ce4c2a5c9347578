import { parseArgs } from 'node:util';
import { openDatabase, type Database } from '../lib/database/database.js';
import { startGateway } from '../gateway/gateway-server.js';
import { startRegistryNode, type RunningNode } from '../subgraphs/registry-node.js';

/**
 * `npm run bench`: a two-registry federation (CN home + DE partner, each on its own in-memory PGlite, or
 * ), seeded, then measured through the gateway.
 * Prints requests/s and latency percentiles per scenario. Figures, never assertions.
 */
const { values } = parseArgs({
  options: {
    units: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '8' },
  },
});
const unitsPerNode = Number(values.units);
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);

async function node(country: string): Promise<{ node: RunningNode; database: Database; codes: string[] }> {
  const database = await openDatabase({});
  const running = await startRegistryNode({ node: { country, name: `${country} registry` }, database });
  const post = async (url: string, query: string, variables: object) => {
    const body = (await (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) })).json()) as any;
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };
  await post(running.urls.enterprises!, 'mutation($c: ID!) { registerEnterprise(input: { code: $c, name: "Bench" }) { code } }', { c: `${country}BNCH` });
  await post(running.urls['product-models']!, 'mutation($c: ID!) { registerProductModel(input: { code: $c, name: "B", category: "humanoid" }) { code } }', { c: `${country}BNCH000001` });
  const codes: string[] = [];
  for (let left = unitsPerNode; left > 0; left -= 1000) {
    const data = await post(running.urls.units!, 'mutation($m: ID!, $n: Int) { registerUnits(input: { model: $m, count: $n }) { code } }', { m: `${country}BNCH000001`, n: Math.min(1000, left) });
    codes.push(...data.registerUnits.map((u: { code: string }) => u.code));
  }
  const day = 86_400_000;
  for (let i = 0; i < codes.length; i += 500) {
    const events = codes.slice(i, i + 500).flatMap((code, j) => [
      { eventId: `b-${code}-1`, unit: code, type: 'MANUFACTURED', occurredAt: new Date(Date.now() - 30 * day).toISOString() },
      ...(j % 2 ? [{ eventId: `b-${code}-2`, unit: code, type: 'DEPLOYED', occurredAt: new Date(Date.now() - 10 * day).toISOString() }] : []),
    ]);
    await post(running.urls.lifecycle!, 'mutation($e: [LifecycleEventInput!]!) { recordEvents(events: $e) { eventId } }', { e: events });
  }
  return { node: running, database, codes };
}

const cn = await node('CN');
const de = await node('DE');
const gateway = await startGateway({
  directory: {
    registries: [
      { name: 'CN registry', countries: ['CN'], home: true, subgraphs: cn.node.urls },
      { name: 'DE registry', countries: ['DE'], subgraphs: de.node.urls },
    ],
  },
  // The clients are anonymous and share one address: lift the rate budget (throughput is measured, not the
  // limit); keep every other limit. A deployed benchmark credential gets its points from GATEWAY_SUBJECT_POINTS_FILE.
  limits: { anonymousRate: { points: Number.MAX_SAFE_INTEGER, windowSeconds: 60 }, maxInFlightPerCaller: Math.max(8, concurrency) },
});

const pick = (codes: string[], n: number, offset: number) => Array.from({ length: n }, (_, i) => codes[(offset + i * 7) % codes.length]!);
const scenarios: { name: string; body: (i: number) => object }[] = [
  { name: 'unit(code) with model, enterprise, state', body: (i) => ({ query: `query($c: ID!) { unit(code: $c) { code model { name } enterprise { name } state } }`, variables: { c: cn.codes[i % cn.codes.length] } }) },
  { name: 'units(100 codes, CN+DE mixed)', body: (i) => ({ query: `query($c: [ID!]!) { units(codes: $c) { code model { name } state } }`, variables: { c: [...pick(cn.codes, 50, i), ...pick(de.codes, 50, i)] } }) },
  { name: 'verify(code)', body: (i) => ({ query: `query($c: String!) { verify(code: $c) { verdict reasons { code } } }`, variables: { c: de.codes[i % de.codes.length] } }) },
  { name: 'verifyMany(1,000 codes, CN+DE mixed)', body: (i) => ({ query: `query($c: [String!]!) { verifyMany(codes: $c) { verdict } }`, variables: { c: [...pick(cn.codes, 500, i), ...pick(de.codes, 500, i)] } }) },
];

console.log(`federation: CN + DE nodes on in-memory PGlite, ${unitsPerNode} units each; ${concurrency} concurrent clients, ${seconds}s per scenario; node ${process.version}`);
for (const scenario of scenarios) {
  const latencies: number[] = [];
  let errors = 0;
  let i = 0;
  const until = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < until) {
        const started = performance.now();
        const response = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(scenario.body(i++)) });
        const body = (await response.json()) as { errors?: unknown };
        latencies.push(performance.now() - started);
        if (body.errors) errors++;
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!.toFixed(1);
  console.log(`${scenario.name.padEnd(42)} ${(latencies.length / seconds).toFixed(1).padStart(8)} req/s   p50 ${p(0.5)} ms   p95 ${p(0.95)} ms   p99 ${p(0.99)} ms   errors ${errors}`);
}
await gateway.stop();
await Promise.all([cn.node.stop(), de.node.stop()]);
await Promise.all([cn.database.close(), de.database.close()]);
