import { ApolloServer } from '@apollo/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGraphQLServer } from '../lib/server/http-server.js';
import { startFederation, type Federation } from './support/federation.js';
import { recordHttpCalls } from './support/subgraph-calls.js';

describe('operations: health, request context, limits', () => {
  let fed: Federation;
  beforeAll(async () => {
    fed = await startFederation([{ country: 'CN' }]);
  });
  afterAll(() => fed?.stop());

  it('answers liveness and readiness on the gateway and every subgraph', async () => {
    const base = fed.gateway.url.replace('/graphql', '');
    expect((await fetch(`${base}/health/live`)).status).toBe(200);
    const ready = (await (await fetch(`${base}/health/ready`)).json()) as any;
    expect(ready.status).toBe('ready');
    expect(ready.registries).toEqual([expect.objectContaining({ name: 'CN registry', countries: ['CN'], home: true, reachable: true, circuit: 'closed' })]);
    for (const url of Object.values(fed.nodes[0]!.urls)) {
      const response = await fetch(url!.replace('/graphql', '/health/ready'));
      expect(response.status, url).toBe(200);
    }
  });

  it('carries the request id from the client through the gateway to the subgraphs', async () => {
    const recorder = recordHttpCalls();
    try {
      const response = await fetch(fed.gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': 'customs-scan-42' },
        body: JSON.stringify({ query: '{ unit(code: "CNAAAA000001AAAAAAAAAAAAAAAAA") { code state } }' }),
      });
      expect(response.headers.get('x-request-id')).toBe('customs-scan-42');
      expect(response.status).toBe(200);
    } finally {
      recorder.stop();
    }
    const seen = recorder.calls.filter((c) => c.url !== fed.gateway.url).map((c) => c.headers['x-request-id'] ?? 'missing');
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen)).toEqual(new Set(['customs-scan-42']));
  });

  it('serves GraphiQL from its own files (nothing from a CDN) to browsers', async () => {
    const html = await (await fetch(fed.gateway.url, { headers: { accept: 'text/html' } })).text();
    expect(html).not.toMatch(/https?:\/\//);
    // `npm run build` bundles it; the names carry a content hash, so the files are cached for good.
    const script = /<script src="(\/graphiql\/app-\w+\.js)">/.exec(html)?.[1];
    expect(script, 'the page loads the GraphiQL bundle').toBeDefined();
    const asset = await fetch(new URL(script!, fed.gateway.url));
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    // Only the files the bundle's manifest names are served, not whatever else lies in the folder.
    expect((await fetch(new URL('/graphiql/manifest.json', fed.gateway.url))).status).toBe(404);
  });

  it('refuses oversized and malformed bodies with a clear error', async () => {
    const big = await fetch(fed.gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: `{ parseCode(code: "${'A'.repeat(3 * 1024 * 1024)}") { valid } }` }) });
    expect(big.status).toBe(413);
    expect(((await big.json()) as any).errors[0].message).toMatch(/limit/);
    const bad = await fetch(fed.gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": ' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).errors[0].message).toMatch(/not valid JSON/);
  });

  it('reports not ready, with the reason, when a subgraph loses its database', async () => {
    const other = await startFederation([{ country: 'CN' }]);
    const url = other.nodes[0]!.urls.units!.replace('/graphql', '/health/ready');
    expect((await fetch(url)).status).toBe(200);
    await other.databases[0]!.close();
    const response = await fetch(url);
    expect(response.status).toBe(503);
    expect(((await response.json()) as any).status).toBe('unavailable');
    await other.stop().catch(() => undefined);
  });
});

describe('graceful stop', () => {
  it('lets in-flight requests finish, then refuses new connections', async () => {
    let release!: () => void;
    let entered!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const running = new Promise<void>((resolve) => (entered = resolve));
    const apollo = new ApolloServer({
      typeDefs: 'type Query { slow: String }',
      resolvers: { Query: { slow: async () => (entered(), await gate, 'done') } },
    });
    const server = await startGraphQLServer({ apollo, context: async (r) => r, ready: async () => undefined });
    const inFlight = fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ slow }"}' });
    await running; // the request is executing: the stop below finds it in flight
    let stopDone = false;
    const stopped = server.stop().then(() => (stopDone = true));
    // Stop waits for the request: it has not finished when the request is let go.
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopDone).toBe(false);
    release();
    const response = await inFlight;
    expect(await response.json()).toEqual({ data: { slow: 'done' } });
    await stopped;
    await expect(fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ slow }"}' })).rejects.toThrow();
  });
});
