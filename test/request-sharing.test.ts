import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDirectory } from '../gateway/directory/registry-directory.js';
import { RegistryClient, type ProcessOptions } from '../gateway/routing/registry-client.js';
import { rootLogger } from '../lib/logging/logger.js';
import { SIGNATURE_HEADERS } from '../lib/security/request-signer.js';
import type { Caller } from '../lib/server/request-context.js';
import { startFederation, type Federation } from './support/federation.js';
import { nodeQuery, seedNode } from './support/seed-node.js';

/**
 * Identical reads in flight at the same time are sent to a registry once, and the answer is shared only
 * between callers with the same rights: subgraphs decide per caller (from the signed claims) which
 * fields they may read, so an answer made for one role must never reach another.
 */
describe('sharing identical in-flight reads', () => {
  let server: Server;
  let url: string;
  const received: { caller: unknown; body: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        const caller = JSON.parse(Buffer.from(String(req.headers[SIGNATURE_HEADERS.caller]), 'base64url').toString('utf8'));
        received.push({ caller, body });
        const asked = JSON.parse(body).variables?.representations ?? [];
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ data: { _entities: asked.map((r: { code: string }) => ({ __typename: 'ProductModel', code: r.code, name: `seen by ${caller?.role ?? 'anonymous'}` })) } }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  /** A gateway's client for a one-registry directory whose every subgraph is the recording server. */
  function client() {
    const directory = buildDirectory({
      registries: [{ name: 'Home', countries: ['CN'], home: true, subgraphs: { enterprises: url, 'product-models': url, units: url, lifecycle: url } }],
    });
    return { registry: new RegistryClient({ directory, unverified: [] }, { secret: randomBytes(32) }), home: directory.home };
  }

  const QUERY = 'query Models__productModels__1($representations: [_Any!]!) { _entities(representations: $representations) { ... on ProductModel { name } } }';
  function fetchOf(caller: Caller | null, query = QUERY): ProcessOptions {
    return {
      kind: 'incoming operation',
      request: { query, variables: { representations: [{ __typename: 'ProductModel', code: 'CNAAAA000001' }] } },
      context: { requestId: `r-${randomBytes(4).toString('hex')}`, caller, log: rootLogger() },
    } as unknown as ProcessOptions;
  }

  it('sends one request for callers with the same rights, and gives each its own copy of the answer', async () => {
    received.length = 0;
    const { registry, home } = client();
    // Two analysts (different people, same rights) and two anonymous callers, all at once.
    const answers = await Promise.all([
      registry.send(home, 'product-models', fetchOf({ subject: 'alice', role: 'analyst' })),
      registry.send(home, 'product-models', fetchOf({ subject: 'bob', role: 'analyst' })),
      registry.send(home, 'product-models', fetchOf(null)),
      registry.send(home, 'product-models', fetchOf(null)),
    ]);
    await registry.close();
    expect(received.map((r) => r.caller)).toEqual([{ subject: 'alice', role: 'analyst' }, null]);
    expect(answers.map((a) => (a.data as any)._entities[0].name)).toEqual(['seen by analyst', 'seen by analyst', 'seen by anonymous', 'seen by anonymous']);
    // The gateway merges later fetches into entities in place: a shared object would leak between requests.
    expect(answers[0]!.data).not.toBe(answers[1]!.data);
    expect((answers[0]!.data as any)._entities[0]).not.toBe((answers[1]!.data as any)._entities[0]);
  });

  it('never shares between different rights: role, enterprise or country', async () => {
    received.length = 0;
    const { registry, home } = client();
    const callers: Caller[] = [
      { subject: 'a', role: 'authority' },
      { subject: 'm1', role: 'manufacturer', enterprise: 'CNAAAA' },
      { subject: 'm2', role: 'manufacturer', enterprise: 'CNBBBB' },
      { subject: 'c1', role: 'customs', country: 'DE' },
      { subject: 'c2', role: 'customs', country: 'JP' },
    ];
    const answers = await Promise.all(callers.map((caller) => registry.send(home, 'product-models', fetchOf(caller))));
    await registry.close();
    expect(received.map((r) => r.caller)).toEqual(callers);
    expect(answers.map((a) => (a.data as any)._entities[0].name)).toEqual(['seen by authority', 'seen by manufacturer', 'seen by manufacturer', 'seen by customs', 'seen by customs']);
  });

  it('never shares writes, nor reads that are no longer in flight', async () => {
    received.length = 0;
    const { registry, home } = client();
    const authority: Caller = { subject: 'a', role: 'authority' };
    const write = 'mutation Register { registerProductModel(input: { code: "CNAAAA000001", name: "X", category: "y" }) { code } }';
    await Promise.all([registry.send(home, 'product-models', fetchOf(authority, write)), registry.send(home, 'product-models', fetchOf(authority, write))]);
    expect(received).toHaveLength(2);
    await registry.send(home, 'product-models', fetchOf(authority));
    await registry.send(home, 'product-models', fetchOf(authority));
    await registry.close();
    expect(received).toHaveLength(4);
  });
});

describe('sharing through the gateway, with field rights applied per caller', () => {
  let fed: Federation;
  let unit: string;
  beforeAll(async () => {
    fed = await startFederation([{ country: 'CN' }]);
    unit = (await seedNode(fed.nodes[0]!, 'CNAAAA', 'CNAAAA000001', 1))[0]!;
    await nodeQuery(fed.nodes[0]!, 'lifecycle', 'mutation($e: [LifecycleEventInput!]!) { recordEvents(events: $e) { eventId } }', {
      e: [
        { eventId: 'share-1', unit, type: 'MANUFACTURED', occurredAt: '2026-01-01T00:00:00Z' },
        { eventId: 'share-2', unit, type: 'SOLD', owner: 'owner-42', occurredAt: '2026-02-01T00:00:00Z' },
      ],
    });
  });
  afterAll(() => fed?.stop());

  it('gives the authority the owner and an analyst WITHHELD, however their identical queries overlap', async () => {
    const query = 'query($c: ID!) { unit(code: $c) { code model { name } events(first: 5) { edges { node { type owner } } } } }';
    const callers = [{ subject: 'boss', role: 'authority' }, { subject: 'ann', role: 'analyst' }] as const;
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => fed.query(query, { c: unit }, callers[i % 2])));
    for (const [i, result] of results.entries()) {
      expect(result.errors).toBeUndefined();
      const events = result.data.unit.events.edges.map((e: any) => e.node);
      expect(events.map((e: any) => e.type).sort()).toEqual(['MANUFACTURED', 'SOLD']);
      if (i % 2 === 0) expect(events.find((e: any) => e.type === 'SOLD').owner).toBe('owner-42');
      else expect(events.map((e: any) => e.owner)).toEqual(['WITHHELD', 'WITHHELD']);
    }
  });
});
