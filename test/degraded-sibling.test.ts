// Truth while degraded: a sibling subgraph that answers `_entities: [null]` together with errors
// (its database is down) has not said "not registered", so the write is refused whole with
// REGISTRY_UNAVAILABLE, never with UNKNOWN_UNIT or UNKNOWN_MODEL.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../lib/database/database.js';
import { startRegistryNode, type RunningNode } from '../subgraphs/registry-node.js';
import { TEST_SIGNING, signedPost } from './support/signing.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

/** A sibling whose every `_entities` answer is one null per representation plus an error, as a failing subgraph gives. */
async function startFailingSibling(): Promise<{ url: string; requests: number; stop(): Promise<void> }> {
  const state = { requests: 0 };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      state.requests++;
      const count = (JSON.parse(body) as { variables?: { r?: unknown[] } }).variables?.r?.length ?? 0;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({
        data: { _entities: Array.from({ length: count }, () => null) },
        errors: Array.from({ length: count }, (_, i) => ({ message: 'internal error in the registry', path: ['_entities', i], extensions: { code: 'INTERNAL_SERVER_ERROR' } })),
      }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    get requests() {
      return state.requests;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function post(node: RunningNode, subgraph: 'units' | 'lifecycle', query: string, variables: object) {
  return (await (await signedPost(node.urls[subgraph]!, subgraph, { query, variables })).json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
}

describe('a sibling lookup that failed is never read as "not registered"', () => {
  let testDb: TestDatabase;
  let database: Database;
  let node: RunningNode;
  let lifecycle: RunningNode;
  let sibling: Awaited<ReturnType<typeof startFailingSibling>>;
  beforeAll(async () => {
    sibling = await startFailingSibling();
    testDb = await createTestDatabase();
    database = await openDatabase(testDb.config);
    node = await startRegistryNode({
      node: { country: 'DE', name: 'DE registry' },
      database,
      signing: TEST_SIGNING,
      only: ['units'],
      // The units subgraph is real; the siblings that would say whether the model and its enterprise exist are failing.
      siblingUrls: { 'product-models': sibling.url, enterprises: sibling.url },
    });
    // A lifecycle subgraph whose units sibling is failing (its database is down).
    lifecycle = await startRegistryNode({ node: { country: 'DE', name: 'DE registry' }, database, signing: TEST_SIGNING, only: ['lifecycle'], siblingUrls: { units: sibling.url, 'product-models': sibling.url } });
  });
  afterAll(async () => {
    await node?.stop();
    await lifecycle?.stop();
    await database?.close();
    await testDb?.drop();
    await sibling?.stop();
  });

  it('refuses registerUnits with REGISTRY_UNAVAILABLE, not UNKNOWN_MODEL, and registers nothing', async () => {
    const calls = sibling.requests;
    const result = await post(node, 'units', `mutation($m: ID!, $s: [String!]) { registerUnits(input: { model: $m, serials: $s }) { code } }`, { m: 'DEAAAA000001', s: ['0'.repeat(16) + '1'] });
    expect(sibling.requests).toBeGreaterThan(calls);
    expect(result.data ?? null).toBeNull();
    expect(result.errors?.map((e) => e.extensions?.code)).toEqual(['REGISTRY_UNAVAILABLE']);
    expect(result.errors?.[0]?.message).toMatch(/nothing was written/);
    const unit = await post(node, 'units', `query($r: [_Any!]!) { _entities(representations: $r) { ... on Unit { code } } }`, { r: [{ __typename: 'Unit', code: 'DEAAAA000001' + '0'.repeat(16) + '1' }] });
    expect(unit).toEqual({ data: { _entities: [null] } });
  });

  it('refuses recordEvents with REGISTRY_UNAVAILABLE, not UNKNOWN_UNIT, and records nothing', async () => {
    const calls = sibling.requests;
    const event = { eventId: 'degraded-1', unit: 'DEAAAA000001' + '0'.repeat(16) + '2', type: 'MAINTAINED', occurredAt: new Date().toISOString() };
    const result = await post(lifecycle, 'lifecycle', `mutation($e: [LifecycleEventInput!]!) { recordEvents(events: $e) { eventId } }`, { e: [event] });
    expect(sibling.requests).toBeGreaterThan(calls);
    expect(result.data ?? null).toBeNull();
    expect(result.errors?.map((e) => e.extensions?.code)).toEqual(['REGISTRY_UNAVAILABLE']);
    expect(result.errors?.[0]?.message).toMatch(/nothing was written/);
    const events = await post(lifecycle, 'lifecycle', `query($r: [_Any!]!) { _entities(representations: $r) { ... on Unit { events(first: 10) { totalCount } } } }`, { r: [{ __typename: 'Unit', code: event.unit }] });
    expect(events.errors).toBeUndefined();
    expect(events.data._entities[0].events.totalCount).toBe(0);
  });
});
