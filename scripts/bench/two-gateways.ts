import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signRequest } from '../../lib/security/request-signer.js';
import { recreateDatabase } from './bench-database.js';
import type { BenchChild } from './child-process.js';
import { BENCH_SUBJECT, newSigningSecret, startNode, startOurGateway, type NodeReady, type Target } from './targets.js';

/**
 * `npm run scaling-demo` (docs/scaling.md): two gateway processes and two registry-node replicas over one
 * Postgres database, sharing one Redis. Shows that a caller's rate budget is one budget across both
 * gateways, and that a signed request replayed to the other replica is refused (a third replica without
 * Redis, remembering nonces in its own memory only, accepts the same replay).
 */
// The point is what the two processes show; the gateways log each refused request with its stack, which would drown it.
process.env.LOG_LEVEL ??= 'fatal';
const serverUrl = process.env.DATABASE_URL?.trim() || 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.REDIS_URL?.trim() || 'redis://127.0.0.1:6379';
const database = 'bench_scaling';
const url = new URL(serverUrl);
url.pathname = `/${database}`;
const run = randomBytes(4).toString('hex');
const budget = 10;

const stops: (() => Promise<void>)[] = [];
const keyDir = mkdtempSync(join(tmpdir(), 'scaling-keys-'));
try {
  await recreateDatabase(serverUrl, true, database);
  const secret = newSigningSecret();
  const shared = { ...process.env, REDIS_URL: redisUrl, REDIS_NONCE_PREFIX: `scaling-demo-${run}:nonce:` };
  const nodeA: BenchChild<NodeReady> = await startNode(url.toString(), secret, shared);
  stops.push(() => nodeA.stop());
  await nodeA.call('seed', { units: 100, eventsPerUnit: 1 });
  const nodeB = await startNode(url.toString(), secret, shared);
  stops.push(() => nodeB.stop());
  const { REDIS_URL: _, ...withoutRedis } = process.env;
  const nodeC = await startNode(url.toString(), secret, withoutRedis);
  stops.push(() => nodeC.stop());

  // Both gateways: the same key for callers, the same Redis, the same key prefix, a budget of 10 points a minute.
  const limits = { redisUrl, keyPrefix: `scaling-demo-${run}`, subjectPoints: { [BENCH_SUBJECT]: budget }, subjectRate: { points: budget, windowSeconds: 60 } };
  const gatewayA: Target = await startOurGateway(nodeA, secret, { keyDir, limits });
  stops.push(() => gatewayA.gateway!.stop());
  const gatewayB = await startOurGateway(nodeB, secret, { keyDir, limits });
  stops.push(() => gatewayB.gateway!.stop());
  console.log(`gateway A ${gatewayA.url} -> node replica A; gateway B ${gatewayB.url} -> node replica B; one Postgres database, Redis ${redisUrl}`);

  const code = (await nodeA.call<string[]>('codes', { limit: 1 }))[0]!;
  const q1 = JSON.stringify({ query: 'query($c: ID!) { unit(code: $c) { code state } }', variables: { c: code } });
  const outcomes: string[] = [];
  for (let i = 0; i < 2 * budget; i++) {
    const gateway = i % 2 ? gatewayB : gatewayA;
    const response = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json', ...gateway.headers }, body: q1 });
    await response.text();
    outcomes.push(`${i % 2 ? 'B' : 'A'}:${response.status}`);
  }
  const passed = outcomes.filter((o) => o.endsWith(':200')).length;
  console.log(`rate limit: ${2 * budget} requests of one caller (budget ${budget} a minute), alternating A and B: ${outcomes.join(' ')}`);
  console.log(`  -> ${passed} answered, ${2 * budget - passed} refused: ${passed === budget ? 'one budget across both gateways' : 'NOT shared'}`);

  // A request signed as the gateway signs it, delivered once to replica A, then replayed byte for byte.
  const body = JSON.stringify({ query: '{ _service { sdl } }' });
  const headers = { 'content-type': 'application/json', ...signRequest(Buffer.from(secret, 'hex'), { body, requestId: `scaling-demo-${run}`, caller: { subject: 'gateway', role: 'authority' } }) };
  const deliver = async (node: BenchChild<NodeReady>) => {
    const response = await fetch(node.ready.urls.units!, { method: 'POST', headers, body });
    const text = await response.text();
    return `${response.status}${response.status === 200 ? '' : ` ${text.slice(0, 160)}`}`;
  };
  console.log(`signed request to replica A: ${await deliver(nodeA)}`);
  console.log(`same bytes replayed to replica B (shares Redis): ${await deliver(nodeB)}`);
  console.log(`same bytes replayed to replica C (no Redis, memory only): ${await deliver(nodeC)}`);
} finally {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  rmSync(keyDir, { recursive: true, force: true });
  await recreateDatabase(serverUrl, true, database, false).catch(() => undefined);
}
