import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApolloServer } from '@apollo/server';
import { sql } from 'kysely';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryNonceStore, redisNonceStore, type NonceStore } from '../lib/security/nonce-store.js';
import { SIGNATURE_HEADERS, signRequest, encodeCaller } from '../lib/security/request-signer.js';
import { requestVerifier } from '../lib/security/request-verifier.js';
import { developmentSigningSecret, parseSigningSecret } from '../lib/security/signing-secret.js';
import { startGraphQLServer, type RunningServer } from '../lib/server/http-server.js';
import type { RequestContext } from '../lib/server/request-context.js';
import { startFederation, type Federation } from './support/federation.js';
import { TEST_AUTHORITY, TEST_SIGNING } from './support/signing.js';

/**
 * Only the gateway talks to subgraphs: a real node on free ports with a signing secret, spoken to
 * straight on its subgraph ports as an attacker on the network would, and through its gateway.
 */
const ENTERPRISE = 'CNSIGN';
const register = (code: string) => ({
  query: 'mutation($c: ID!) { registerEnterprise(input: { code: $c, name: "Signed Robotics" }) { code } }',
  variables: { c: code },
});

describe('requests straight to a subgraph port', () => {
  let fed: Federation;
  let url: string;

  const enterpriseCount = async () => {
    const rows = await sql<{ n: number }>`select count(*)::int as n from enterprises.enterprise`.execute(fed.databases[0]!.forSchema('enterprises'));
    return Number(rows.rows[0]!.n);
  };
  const post = (body: string, headers: Record<string, string>) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const sign = (body: string, overrides: { secret?: Buffer; at?: number } = {}) =>
    signRequest(overrides.secret ?? TEST_SIGNING.secret, { body, requestId: randomUUID(), caller: TEST_AUTHORITY }, overrides.at ?? Date.now());

  /** The request is refused with 401 UNAUTHENTICATED naming `reason`, and nothing was written. */
  async function expectRefused(send: () => Promise<Response>, reason: RegExp) {
    const before = await enterpriseCount();
    const response = await send();
    expect(response.status).toBe(401);
    const body = (await response.json()) as any;
    expect(body.data).toBeUndefined();
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(body.errors[0].message).toMatch(reason);
    expect(await enterpriseCount()).toBe(before);
    const seen = await fed.query(`{ enterprise(code: "${ENTERPRISE}") { code } }`);
    expect(seen.data?.enterprise).toBeNull();
  }

  beforeAll(async () => {
    fed = await startFederation([{ country: 'CN' }]);
    url = fed.nodes[0]!.urls.enterprises!;
  });
  afterAll(async () => {
    await fed?.stop();
  });

  it('refuses an unsigned write', async () => {
    await expectRefused(() => post(JSON.stringify(register(ENTERPRISE)), {}), /^request signature missing$/);
  });

  it('refuses a write signed with another secret', async () => {
    const body = JSON.stringify(register(ENTERPRISE));
    await expectRefused(() => post(body, sign(body, { secret: randomBytes(32) })), /signature invalid/);
  });

  it('refuses a body other than the one signed', async () => {
    const signed = JSON.stringify({ query: '{ __typename }' });
    await expectRefused(() => post(JSON.stringify(register(ENTERPRISE)), sign(signed)), /body does not match its signed digest/);
  });

  it('refuses a request older than 30 s, and one from the future', async () => {
    const body = JSON.stringify(register(ENTERPRISE));
    await expectRefused(() => post(body, sign(body, { at: Date.now() - 31_000 })), /^request older than 30 s$/);
    await expectRefused(() => post(body, sign(body, { at: Date.now() + 60_000 })), /in the future/);
  });

  it('refuses claims changed after signing', async () => {
    const body = JSON.stringify(register(ENTERPRISE));
    const headers = sign(body);
    headers[SIGNATURE_HEADERS.caller] = encodeCaller({ subject: 'mallory', role: 'authority' });
    await expectRefused(() => post(body, headers), /signature invalid/);
  });

  it('refuses a request whose query string was changed after signing', async () => {
    const body = JSON.stringify(register(ENTERPRISE));
    const headers = sign(body);
    const send = () => fetch(`${url}?query=${encodeURIComponent('{ __typename }')}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    await expectRefused(send, /signature invalid/);
  });

  it('refuses a nonce already used on another subgraph of the node', async () => {
    const read = JSON.stringify({ query: '{ __typename }' });
    const headers = sign(read);
    expect((await fetch(fed.nodes[0]!.urls.units!, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: read })).status).toBe(200);
    await expectRefused(() => post(read, headers), /^nonce replayed$/);
  });

  it('accepts a signed write once and refuses its replay', async () => {
    const code = 'CNSIGR';
    const body = JSON.stringify(register(code));
    const headers = sign(body);
    const before = await enterpriseCount();
    const first = await post(body, headers);
    expect(first.status).toBe(200);
    expect(((await first.json()) as any).data).toEqual({ registerEnterprise: { code } });
    expect(await enterpriseCount()).toBe(before + 1);
    await expectRefused(() => post(body, headers), /^nonce replayed$/);
  });

  it('passes requests the gateway signed, the sibling lookup of a unit write included', async () => {
    const model = 'CNGATE000001';
    const written = await fed.query(`mutation {
      registerEnterprise(input: { code: "CNGATE", name: "Gateway Robotics" }) { code }
      registerProductModel(input: { code: "${model}", name: "G1", category: "humanoid" }) { code }
    }`);
    expect(written.errors).toBeUndefined();
    // The units subgraph asks product-models whether the model is active: a signed call of the node itself.
    const units = await fed.query(`mutation { registerUnits(input: { model: "${model}", count: 2 }) { code model { name } } }`);
    expect(units.errors).toBeUndefined();
    expect(units.data.registerUnits).toHaveLength(2);
    expect(units.data.registerUnits[0].model).toEqual({ name: 'G1' });
  });

  it('drops internal headers a client sends to the gateway', async () => {
    const body = JSON.stringify({ query: '{ enterprise(code: "CNGATE") { code } }' });
    const forged = sign(body, { secret: randomBytes(32) });
    const response = await fetch(fed.gateway.url, { method: 'POST', headers: { 'content-type': 'application/json', ...forged }, body });
    expect(await response.json()).toEqual({ data: { enterprise: { code: 'CNGATE' } } });
  });

  describe('_entities size', () => {
    const entities = (count: number) => {
      const r = Array.from({ length: count }, (_, i) => ({ __typename: 'Unit', code: `CNGATE000001${String(i + 1).padStart(17, '0')}` }));
      return JSON.stringify({ query: 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Unit { code } } }', variables: { r } });
    };
    const postUnits = (body: string) =>
      fetch(fed.nodes[0]!.urls.units!, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...signRequest(TEST_SIGNING.secret, { body, requestId: randomUUID(), caller: null }) },
        body,
      });

    it('refuses 1,001 representations with LIMIT_EXCEEDED and max', async () => {
      const response = await postUnits(entities(1_001));
      const body = (await response.json()) as any;
      expect(body.data).toBeUndefined();
      expect(body.errors[0].extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', max: 1_000 });
      expect(body.errors[0].message).toMatch(/at most 1000 representations, got 1001/);
    });

    it('counts representations across aliases and literals', async () => {
      const half = Array.from({ length: 600 }, (_, i) => `{ __typename: "Unit", code: "CNGATE000001${String(i + 1).padStart(17, '0')}" }`).join(' ');
      const body = JSON.stringify({ query: `{ a: _entities(representations: [${half}]) { __typename } b: _entities(representations: [${half}]) { __typename } }` });
      const answer = (await (await postUnits(body)).json()) as any;
      expect(answer.errors[0].extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', max: 1_000 });
    });

    it('answers 1,000 representations', async () => {
      const body = (await (await postUnits(entities(1_000))).json()) as any;
      expect(body.errors).toBeUndefined();
      expect(body.data._entities).toHaveLength(1_000);
      expect(body.data._entities.slice(0, 3)).toEqual([
        { code: `CNGATE000001${'1'.padStart(17, '0')}` },
        { code: `CNGATE000001${'2'.padStart(17, '0')}` },
        null,
      ]);
    });
  });
});

describe('verified claims become the request context', () => {
  const secret = randomBytes(32);
  let server: RunningServer;
  beforeAll(async () => {
    const apollo = new ApolloServer<RequestContext>({
      typeDefs: 'type Query { whoami: String }',
      resolvers: { Query: { whoami: (_: unknown, __: unknown, ctx: RequestContext) => JSON.stringify({ requestId: ctx.requestId, caller: ctx.caller }) } },
    });
    server = await startGraphQLServer({
      apollo,
      context: async (request) => request,
      ready: async () => undefined,
      verifyRequest: requestVerifier({ secret, nonces: memoryNonceStore() }),
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('takes the caller and the request id from the signed headers, not from x-request-id', async () => {
    const body = JSON.stringify({ query: '{ whoami }' });
    const caller = { subject: 'officer-7', role: 'customs' as const, country: 'DE' };
    const headers = signRequest(secret, { body, requestId: 'req-signed-1', caller });
    const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'spoofed', ...headers }, body });
    expect(response.headers.get('x-request-id')).toBe('req-signed-1');
    const answer = (await response.json()) as any;
    expect(JSON.parse(answer.data.whoami)).toEqual({ requestId: 'req-signed-1', caller });
  });
});

describe('nonce stores', () => {
  it('forget a nonce when its window ends', async () => {
    let now = 1_000_000;
    const store = memoryNonceStore(() => now);
    expect(await store.claim('n-1', 35_000)).toBe(true);
    now += 34_999;
    expect(await store.claim('n-1', 35_000)).toBe(false);
    now += 2;
    expect(await store.claim('n-1', 35_000)).toBe(true);
  });

  describe('Redis (127.0.0.1:6379)', () => {
    const REDIS_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379';
    const prefix = `test:nonce:${randomUUID()}:`;
    const stores: NonceStore[] = [];
    const servers: RunningServer[] = [];
    const raw = new Redis(REDIS_URL);
    afterAll(async () => {
      await Promise.all(servers.map((s) => s.stop()));
      await Promise.all(stores.map((s) => s.close()));
      const keys = await raw.keys(`${prefix}*`);
      if (keys.length) await raw.del(...keys);
      await raw.quit();
    });

    it('refuses in one instance a nonce another instance accepted, and lets it expire with the window', async () => {
      const [a, b] = [redisNonceStore(REDIS_URL, prefix), redisNonceStore(REDIS_URL, prefix)];
      stores.push(a, b);
      expect(await a.claim('n-1', 35_000)).toBe(true);
      expect(await b.claim('n-1', 35_000)).toBe(false);
      expect(await b.claim('n-2', 35_000)).toBe(true);
      const ttl = await raw.pttl(`${prefix}n-1`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(35_000);
    });

    it('lets two replicas of a subgraph agree: a request replayed to the other is refused', async () => {
      const secret = randomBytes(32);
      for (let i = 0; i < 2; i++) {
        const nonces = redisNonceStore(REDIS_URL, prefix);
        stores.push(nonces);
        const apollo = new ApolloServer({ typeDefs: 'type Query { ping: String }', resolvers: { Query: { ping: () => 'pong' } } });
        servers.push(await startGraphQLServer({ apollo, context: async (r) => r, ready: async () => undefined, verifyRequest: requestVerifier({ secret, nonces }) }));
      }
      const body = JSON.stringify({ query: '{ ping }' });
      const headers = { 'content-type': 'application/json', ...signRequest(secret, { body, requestId: 'r-1', caller: null }) };
      const first = await fetch(servers[0]!.url, { method: 'POST', headers, body });
      expect(await first.json()).toEqual({ data: { ping: 'pong' } });
      const replay = await fetch(servers[1]!.url, { method: 'POST', headers, body });
      expect(replay.status).toBe(401);
      expect(((await replay.json()) as any).errors[0]).toEqual({ message: 'nonce replayed', extensions: { code: 'UNAUTHENTICATED' } });
    });
  });
});

describe('signing secrets', () => {
  it('reads hex and base64 of at least 32 bytes, and names the problem otherwise', () => {
    const bytes = randomBytes(32);
    expect(parseSigningSecret(bytes.toString('hex'))).toEqual(bytes);
    expect(parseSigningSecret(bytes.toString('base64'))).toEqual(bytes);
    expect(() => parseSigningSecret(randomBytes(16).toString('hex'))).toThrow(/at least 32 bytes, got 16/);
    expect(() => parseSigningSecret('not a secret!')).toThrow(/hex or base64/);
  });

  it('makes a development secret in the data folder once, readable only by its owner, and reads it back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'signing-'));
    try {
      const first = developmentSigningSecret(join(dir, 'registry'));
      expect(first.length).toBeGreaterThanOrEqual(32);
      expect(developmentSigningSecret(join(dir, 'registry'))).toEqual(first);
      expect(statSync(join(dir, 'registry', 'signing-secret')).mode & 0o077).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
