import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../lib/database/database.js';
import { startRegistryNode, type RunningNode } from '../subgraphs/registry-node.js';
import { TEST_SIGNING } from './support/signing.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

/**
 * `npm run bench` runs an unsigned twin of a node for the peer gateways, every request acting as a fixed
 * caller (RegistryNodeOptions.unsignedCallerForBenchmark). It must never combine with a signing secret or
 * run in production, and it must be the only way an unsigned request gets more than anonymous rights.
 */
const provenance = JSON.stringify({
  query: 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Unit { provenance { owners { owner } } } } }',
  variables: { r: [{ __typename: 'Unit', code: `CNBNCHM00001${'1'.padStart(17, '0')}` }] },
});
const post = async (url: string) => (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: provenance })).json() as Promise<any>;

describe('the benchmark-only unsigned node', () => {
  let testDb: TestDatabase;
  let database: Database;
  const nodes: RunningNode[] = [];

  beforeAll(async () => {
    testDb = await createTestDatabase();
    database = await openDatabase(testDb.config);
  });
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await database.close();
    await testDb.drop();
  });

  it('is refused together with a signing secret', async () => {
    await expect(startRegistryNode({ node: { country: 'CN', name: 'bench' }, database, signing: TEST_SIGNING, unsignedCallerForBenchmark: { subject: 'bench', role: 'authority' } })).rejects.toThrow(/npm run bench only/);
  });

  it('is refused under NODE_ENV=production', async () => {
    const previous = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      await expect(startRegistryNode({ node: { country: 'CN', name: 'bench' }, database, unsignedCallerForBenchmark: { subject: 'bench', role: 'authority' } })).rejects.toThrow(/npm run bench only/);
    } finally {
      process.env.NODE_ENV = previous;
    }
  });

  it('answers unsigned requests as its caller, where a plain unsigned node treats them as anonymous', async () => {
    const bench = await startRegistryNode({ node: { country: 'CN', name: 'bench' }, database, only: ['lifecycle'], unsignedCallerForBenchmark: { subject: 'bench', role: 'authority' } });
    nodes.push(bench);
    const plain = await startRegistryNode({ node: { country: 'CN', name: 'plain' }, database, only: ['lifecycle'] });
    nodes.push(plain);
    const asBench = await post(bench.urls.lifecycle!);
    expect(asBench.errors).toBeUndefined();
    expect(asBench.data._entities[0].provenance.owners).toEqual([]);
    const anonymous = await post(plain.urls.lifecycle!);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
