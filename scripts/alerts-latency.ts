import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createSubscription } from '../lib/alerts/alert-subscriptions.js';
import { ALERTS_SCHEMA, type AlertsDb } from '../lib/alerts/alerts-table.js';
import { openDatabase } from '../lib/database/database.js';
import { createLogger, setRootLogger } from '../lib/logging/logger.js';
import { startRegistryNode } from '../subgraphs/registry-node.js';

/**
 * Delivery latency under load: `npm run alerts-latency -- [--events 1000] [--batch 100]`. One node in this
 * process (the embedded database, or DATABASE_URL: it must be an empty database), one webhook receiver, one
 * subscription; N theft events recorded in a burst of concurrent recordEvents calls of --batch events.
 * Latency of an alert: from the moment its recordEvents call returned (its transaction committed) to receipt.
 */
const { values } = parseArgs({ options: { events: { type: 'string', default: '1000' }, batch: { type: 'string', default: '100' }, 'poll-ms': { type: 'string', default: '200' } } });
const total = Number(values.events);
const batch = Number(values.batch);
setRootLogger(createLogger({ name: 'alerts-latency', level: 'warn' }));
const dataDir = process.env.DATABASE_URL ? undefined : mkdtempSync(join(tmpdir(), 'alerts-latency-'));
const database = await openDatabase(process.env.DATABASE_URL ? { url: process.env.DATABASE_URL } : { dataDir });

const received = new Map<string, number>();
let done: () => void;
const all = new Promise<void>((resolve) => (done = resolve));
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const alert = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (!received.has(alert.unit)) received.set(alert.unit, performance.now());
    res.writeHead(204).end();
    if (received.size === total) done();
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alerts/`;
const targetsFor = () => ({ urlPrefixes: [url], allowPrivate: true });
const node = await startRegistryNode({ node: { country: 'CN', name: 'latency' }, database, alerts: { targetsFor, pollMs: Number(values['poll-ms']) } });

const run = async (subgraph: 'enterprises' | 'product-models' | 'units' | 'lifecycle', query: string, variables: Record<string, unknown>) => {
  const body = await node.execute(subgraph, query, variables);
  if (body.errors?.length) throw new Error(body.errors.map((e) => e.message).join('; '));
  return body.data as any;
};
await run('enterprises', 'mutation { registerEnterprise(input: { code: "CNLATE", name: "Latency" }) { code } }', {});
await run('product-models', 'mutation { registerProductModel(input: { code: "CNLATEM00001", name: "L", category: "humanoid" }) { code } }', {});
const units: string[] = [];
for (let i = 0; i < total; i += 1000) {
  const data = await run('units', 'mutation($n: Int) { registerUnits(input: { model: "CNLATEM00001", count: $n }) { code } }', { n: Math.min(1000, total - i) });
  units.push(...data.registerUnits.map((u: { code: string }) => u.code));
}
const record = 'mutation($e: [LifecycleEventInput!]!) { recordEvents(events: $e) { eventId } }';
const at = new Date(Date.now() - 60_000).toISOString();
for (let i = 0; i < units.length; i += 1000) {
  await run('lifecycle', record, { e: units.slice(i, i + 1000).map((unit, j) => ({ eventId: `m-${i + j}`, unit, type: 'MANUFACTURED', occurredAt: at })) });
}
await createSubscription(database.forSchema<AlertsDb>(ALERTS_SCHEMA), { subject: 'bench', role: 'partner', country: 'DE' }, { url, scope: { models: ['CNLATEM00001'] }, kinds: ['UNIT_STOLEN'] }, targetsFor);

const committed = new Map<string, number>();
const started = performance.now();
await Promise.all(
  Array.from({ length: Math.ceil(total / batch) }, async (_, b) => {
    const slice = units.slice(b * batch, (b + 1) * batch);
    await run('lifecycle', record, { e: slice.map((unit, j) => ({ eventId: `s-${b}-${j}`, unit, type: 'REPORTED_STOLEN', occurredAt: new Date().toISOString() })) });
    const now = performance.now();
    for (const unit of slice) committed.set(unit, now);
  }),
);
const recordedIn = performance.now() - started;
await all;
const latencies = units.map((u) => received.get(u)! - committed.get(u)!).sort((a, b) => a - b);
console.log(`${total} thefts recorded in ${Math.round(recordedIn)} ms (${Math.ceil(total / batch)} concurrent calls of ${batch}) on ${process.env.DATABASE_URL ? 'Postgres' : 'the embedded database'}; dispatcher polling every ${values['poll-ms']} ms`);
console.log(`commit -> receipt: p50 ${Math.round(percentile(latencies, 0.5))} ms, p99 ${Math.round(percentile(latencies, 0.99))} ms, max ${Math.round(latencies.at(-1)!)} ms; all ${total} received ${Math.round(performance.now() - started)} ms after the burst began`);
await node.stop();
await database.close();
receiver.close();
if (dataDir) rmSync(dataDir, { recursive: true, force: true });

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}
