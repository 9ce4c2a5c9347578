import { randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { Supergraph } from '@apollo/federation-internals';
import { Redis } from 'ioredis';
import { getNullableType, isListType, isObjectType, parse, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../lib/database/database.js';
import { loadSdl } from '../lib/schema/contract.js';
import { rootLogger } from '../lib/logging/logger.js';
import { createGateway, startGateway, type RunningGateway } from '../gateway/gateway-server.js';
import { LIST_SIZES } from '../gateway/limits/list-sizes.js';
import { operationCost } from '../gateway/limits/operation-cost.js';
import { CallerRateLimiter } from '../gateway/limits/rate-limiter.js';
import { DEFAULT_LIMITS_CONFIG, limitsConfigFromEnv } from '../gateway/limits/limits-config.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegistryGuard } from '../gateway/routing/registry-guard.js';
import { startRegistryNode, type RunningNode } from '../subgraphs/registry-node.js';
import { seedNode } from './support/seed-node.js';
import { TEST_SIGNING } from './support/signing.js';
import { createTestDatabase } from './support/test-database.js';

const apiSchema = Supergraph.build(loadSdl('supergraph')).apiSchema().toGraphQLJSSchema();

function price(query: string, variables: Record<string, unknown> = {}, registries = 1) {
  const document = parse(query);
  const operation = document.definitions.find((d) => d.kind === 'OperationDefinition') as OperationDefinitionNode;
  const fragments = Object.fromEntries(
    document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === 'FragmentDefinition').map((f) => [f.name.value, f]),
  );
  return operationCost(apiSchema, operation, fragments, variables, registries);
}

const NESTED = `{ registries { enterprises(first: 100) { edges { node { productModels(first: 100) { edges { node {
  units(first: 100) { edges { node { code } } } } } } } } } } }`;

describe('cost estimate', () => {
  it('prices nested connections as the rows they would fetch', () => {
    const priced = price(NESTED, {}, 2);
    // units(first: 100) is asked on every one of the 2 x 100 x 100 models: a 20,000-representation fetch.
    expect(priced.largest).toEqual({ path: 'registries.enterprises.edges.node.productModels.edges.node.units', items: 2 * 100 * 100 });
    // ...and priced as the 2,000,000 units it would return.
    expect(priced.cost).toBe(2 + 2 * 100 + 2 * 100 * 100 + 2 * 100 * 100 * 100);
    // Absent `first` takes the schema default (50).
    expect(price('{ registries { units { edges { node { model { code } } } } } }', {}, 3)).toMatchObject({ cost: 3 + 150 + 150, largest: { items: 150 } });
  });

  it('counts each alias and each fragment spread of a shared variable separately', () => {
    const codes = Array.from({ length: 7 }, (_, i) => `CODE${i}`);
    const aliases = Array.from({ length: 5 }, (_, i) => `a${i}: verifyMany(codes: $c) { verdict }`).join(' ');
    expect(price(`query($c: [String!]!) { ${aliases} }`, { c: codes }).codes).toBe(35);
    expect(price(`query($c: [String!]!) { ...F ...F2 } fragment F on Query { verifyMany(codes: $c) { verdict } } fragment F2 on Query { x: verifyMany(codes: $c) { verdict } u: unit(code: "X") { code } }`, { c: codes }).codes).toBe(15);
    expect(price(`mutation { registerUnits(input: { model: "M", count: 700 }) { code } }`).codes).toBe(700);
    expect(price(`mutation($s: [String!]) { registerUnits(input: { model: "M", serials: $s }) { code } }`, { s: ['a', 'b'] }).codes).toBe(2);
  });

  it('has a list size for every paged field and every list-taking root field of the contract, with its default', () => {
    const expected: Record<string, unknown> = {};
    for (const type of Object.values(apiSchema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('__')) continue;
      for (const field of Object.values(type.getFields())) {
        const first = field.args.find((a) => a.name === 'first');
        if (first) expected[`${type.name}.${field.name}`] = { kind: 'page', default: first.defaultValue };
        const root = type === apiSchema.getQueryType() || type === apiSchema.getMutationType();
        if (root && isListType(getNullableType(field.type))) expected[`${type.name}.${field.name}`] = LIST_SIZES[`${type.name}.${field.name}`] ?? 'missing';
      }
    }
    expect(Object.keys(expected).sort()).toEqual(Object.keys(LIST_SIZES).sort());
    for (const [coordinate, size] of Object.entries(expected)) expect(LIST_SIZES[coordinate], coordinate).toEqual(size);
  });
});

describe('rate limits in Redis (127.0.0.1:6379)', () => {
  const prefix = `limits-test-${randomUUID()}`;
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const redis = new Redis(redisUrl);
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  it('charges by codes, answers RATE_LIMITED with a retry delay, and gives configured subjects their own budget', async () => {
    const config = { ...DEFAULT_LIMITS_CONFIG, redisUrl, keyPrefix: prefix, anonymousRate: { points: 10, windowSeconds: 60 }, subjectRate: { points: 100, windowSeconds: 60 }, subjectPoints: { bench: 5_000 } };
    const limiter = new CallerRateLimiter(config);
    // A second gateway process shares the counters through Redis.
    const other = new CallerRateLimiter(config);
    try {
      const anonymous = { subject: null, address: '192.0.2.7' };
      await limiter.consume(anonymous, 6);
      const refused = await other.consume(anonymous, 6).catch((e) => e);
      expect(refused.extensions).toMatchObject({ code: 'RATE_LIMITED', max: 10, actual: 6 });
      expect(refused.extensions.retryAfterSeconds).toBeGreaterThan(0);
      expect(refused.extensions.http.status).toBe(429);
      expect(refused.extensions.http.headers.get('retry-after')).toBe(String(refused.extensions.retryAfterSeconds));
      // Another address is unaffected.
      await limiter.consume({ subject: null, address: '192.0.2.8' }, 10);
      // A 1,000-code request is more than an ordinary subject's whole budget; the benchmark subject may.
      expect((await limiter.consume({ subject: 'alice', address: '192.0.2.7' }, 1000).catch((e) => e)).extensions.code).toBe('RATE_LIMITED');
      await limiter.consume({ subject: 'bench', address: '192.0.2.7' }, 1000);
      expect((await redis.keys(`${prefix}*`)).length).toBeGreaterThan(0);
    } finally {
      await limiter.close();
      await other.close();
    }
  });
});

describe('configuration', () => {
  it('gives more points only to subjects named in a file, and hides the schema only in production', () => {
    const dir = mkdtempSync(join(tmpdir(), 'limits-'));
    const file = join(dir, 'subjects.json');
    writeFileSync(file, JSON.stringify({ 'bench-key': 1_000_000 }));
    const config = limitsConfigFromEnv({ GATEWAY_SUBJECT_POINTS_FILE: file, NODE_ENV: 'production', REDIS_URL: 'redis://example:6379' });
    expect(config).toMatchObject({ subjectPoints: { 'bench-key': 1_000_000 }, hideSchemaFromAnonymous: true, redisUrl: 'redis://example:6379' });
    expect(limitsConfigFromEnv({})).toMatchObject({ subjectPoints: {}, hideSchemaFromAnonymous: false });
    expect(limitsConfigFromEnv({}).redisUrl).toBeUndefined();
    writeFileSync(file, JSON.stringify({ 'bench-key': 'lots' }));
    expect(() => limitsConfigFromEnv({ GATEWAY_SUBJECT_POINTS_FILE: file })).toThrow(/points of "bench-key" must be a positive integer/);
  });
});

describe('registry guard', () => {
  it('does not count a full bulkhead as a registry failure', async () => {
    const guard = new RegistryGuard({ timeoutMs: 5_000, maxConcurrent: 1, maxQueued: 0, breakAfterFailures: 1, halfOpenAfterMs: 60_000 });
    let finish!: () => void;
    const running = guard.execute(() => new Promise<string>((resolve) => (finish = () => resolve('done'))));
    const refused = await Promise.all(Array.from({ length: 5 }, () => guard.execute(async () => 'never').catch((e: Error) => e.message)));
    expect(refused).toEqual(Array(5).fill('too many requests in flight'));
    expect(guard.circuit).toBe('closed');
    finish();
    expect(await running).toBe('done');
    expect(await guard.execute(async () => 'after')).toBe('after');
  });
});

/** Forwards to a subgraph, counting every request but the gateway's health probes; can hold requests. */
async function countingProxy(target: string) {
  const state = { count: 0, hold: false, held: [] as (() => void)[], heldRequests: new Set<string>(), onHeld: () => undefined as void };
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    if (!body.toString().includes('RegistryProbe')) state.count++;
    if (state.hold && !body.toString().includes('RegistryProbe')) {
      await new Promise<void>((resolve) => {
        state.held.push(resolve);
        state.heldRequests.add(String(req.headers['x-request-id']));
        state.onHeld();
      });
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && !['host', 'content-length', 'connection'].includes(k)) headers[k] = v;
    const answer = await fetch(target, { method: req.method, headers, body: req.method === 'POST' ? body : undefined });
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
    res.end(Buffer.from(await answer.arrayBuffer()));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`, state, close: () => new Promise((r) => server.close(r)) };
}

type Proxy = Awaited<ReturnType<typeof countingProxy>>;

describe('abuse against a real gateway and registry node', () => {
  let node: RunningNode;
  let database: Database;
  let drop: () => Promise<void>;
  let proxies: Proxy[];
  let gateway: RunningGateway;
  let codes: string[];
  let baseline: unknown;
  const fetched = () => proxies.reduce((n, p) => n + p.state.count, 0);

  async function post(query: string, variables?: unknown, localAddress?: string) {
    const body = JSON.stringify({ query, variables });
    return new Promise<{ status: number; headers: Record<string, unknown>; body: any }>((resolve, reject) => {
      const req = httpRequest(gateway.url, { method: 'POST', localAddress, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, async (res) => {
        const chunks: Buffer[] = [];
        for await (const chunk of res) chunks.push(chunk as Buffer);
        resolve({ status: res.statusCode!, headers: res.headers, body: JSON.parse(Buffer.concat(chunks).toString()) });
      });
      req.on('error', reject);
      req.end(body);
    });
  }
  const verify = (address?: string) => post(`query($c: String!) { verify(code: $c) { code verdict reasons { code } } }`, { c: codes[0] }, address);

  beforeAll(async () => {
    const testDb = await createTestDatabase();
    drop = testDb.drop;
    database = await openDatabase(testDb.config);
    node = await startRegistryNode({ node: { country: 'CN', name: 'CN registry' }, database, signing: TEST_SIGNING });
    codes = await seedNode(node, 'CNA1B2', 'CNA1B2H10000', 3);
    proxies = [];
    const subgraphs: Record<string, string> = {};
    for (const [name, url] of Object.entries(node.urls)) {
      const proxy = await countingProxy(url!);
      proxies.push(proxy);
      subgraphs[name] = proxy.url;
    }
    gateway = await startGateway({
      directory: { registries: [{ name: 'CN registry', countries: ['CN'], home: true, subgraphs }] },
      probeIntervalMs: 3_600_000,
      signing: TEST_SIGNING,
      limits: { anonymousRate: { points: 1_500, windowSeconds: 3_600 }, maxInFlightPerCaller: 2 },
    });
    await gateway.probeAll();
    baseline = (await verify()).body;
    expect(baseline).toMatchObject({ data: { verify: { code: codes[0], verdict: 'ADMIT' } } });
  }, 60_000);

  afterAll(async () => {
    await gateway?.stop();
    await Promise.all(proxies.map((p) => p.close()));
    await node?.stop();
    await database?.close();
    await drop?.();
  });

  it('refuses each attack with its code before any subgraph call, while a legitimate verify still answers', async () => {
    const before = fetched();
    const aliases = Array.from({ length: 2_000 }, (_, i) => `u${i}: unit(code: "${codes[0]}") { code }`).join(' ');
    const many = Array.from({ length: 20 }, (_, i) => `v${i}: verifyMany(codes: $c) { verdict }`).join(' ');
    const thousand = Array.from({ length: 1_000 }, (_, i) => `${codes[0]!.slice(0, 12)}${String(i).padStart(5, '0')}`);
    const costly = Array.from({ length: 11 }, (_, i) => `r${i}: registry(country: "CN") { units(first: 1000) { edges { node { code } } } }`).join(' ');
    const deep = `{ registries { enterprises { edges { node { productModels { edges { node { units { edges { node { events { edges { node { unit { model { enterprise { code } } } } } } } } } } } } } } } } }`;
    const fewerAliases = Array.from({ length: 31 }, (_, i) => `u${i}: unit(code: "${codes[0]}") { code }`).join(' ');
    const [nested, aliased, aliasedFewer, shared, tooCostly, tooDeep, tokens, directives] = await Promise.all([
      post(NESTED),
      post(`{ ${aliases} }`),
      post(`{ ${fewerAliases} }`),
      post(`query($c: [String!]!) { ${many} }`, { c: thousand }),
      post(`{ ${costly} }`),
      post(deep),
      post(`{ ${'__typename '.repeat(6_000)} }`),
      post(`{ ${Array.from({ length: 60 }, (_, i) => `t${i}: __typename @include(if: true)`).join(' ')} }`),
    ]);
    const during = await verify();
    expect(nested.body.errors[0].extensions).toEqual({ code: 'LIMIT_EXCEEDED', limit: 'ITEMS_PER_FIELD', max: 1000, actual: 10_000, field: 'registries.enterprises.edges.node.productModels.edges.node.units' });
    // 2,000 aliases do not get past the parser's token limit; fewer meet the alias limit.
    expect(aliased.body.errors[0].extensions).toEqual({ code: 'TOO_MANY_TOKENS', max: 5_000 });
    expect(aliasedFewer.body.errors[0].extensions).toEqual({ code: 'TOO_MANY_ALIASES', max: 30, actual: 31 });
    expect(shared.body.errors[0].extensions).toEqual({ code: 'LIMIT_EXCEEDED', limit: 'CODES_PER_REQUEST', max: 1000, actual: 20_000 });
    expect(tooCostly.body.errors[0].extensions).toMatchObject({ code: 'QUERY_TOO_COSTLY', max: 10_000 });
    expect(tooCostly.body.errors[0].extensions.actual).toBeGreaterThan(10_000);
    expect(tooDeep.body.errors[0].extensions).toMatchObject({ code: 'QUERY_TOO_DEEP', max: 14 });
    expect(tokens.body.errors[0].extensions).toEqual({ code: 'TOO_MANY_TOKENS', max: 5_000 });
    expect(directives.body.errors[0].extensions).toMatchObject({ code: 'TOO_MANY_DIRECTIVES', max: 50, actual: 60 });
    for (const refused of [nested, aliased, aliasedFewer, shared, tooCostly, tooDeep, tokens, directives]) expect(refused.status).toBe(400);
    expect(during.body).toEqual(baseline);
    // Only the legitimate verify reached the registry.
    expect(fetched() - before).toBeGreaterThan(0);
    const afterVerify = fetched();
    await Promise.all([post(NESTED), post(`{ ${aliases} }`), post(`query($c: [String!]!) { ${many} }`, { c: thousand })]);
    expect(fetched()).toBe(afterVerify);
  }, 60_000);

  it('rate-limits registerUnits by its count with 429 and Retry-After', async () => {
    const register = `mutation { registerUnits(input: { model: "CNA1B2H10000", count: 1000 }) { code } }`;
    // An anonymous caller may not write at all (lib/access), yet the attempt is priced by its count first.
    const first = await post(register);
    expect(first.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    const before = fetched();
    const second = await post(register);
    expect(second.status).toBe(429);
    expect(Number(second.headers['retry-after'])).toBeGreaterThan(0);
    expect(second.body.errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', max: 1_500, actual: 1000 });
    expect(fetched()).toBe(before);
    const [row] = (await sql<{ n: number }>`select count(*)::int as n from units.unit`.execute(database.forSchema('units'))).rows;
    expect(Number(row!.n)).toBe(3);
  }, 60_000);

  it("gives each caller a share of concurrency: one caller's burst is refused, another caller is served", async () => {
    const held = proxies.map((p) => p.state);
    let arrived!: () => void;
    const bothHeld = new Promise<void>((resolve) => (arrived = resolve));
    // Each verify waits at its subgraph fetches; both are in flight once fetches of two requests are held.
    const onHeld = () => void (new Set(held.flatMap((state) => [...state.heldRequests])).size >= 2 && arrived());
    for (const state of held) Object.assign(state, { hold: true, onHeld });
    try {
      const slow = [verify('127.0.0.3'), verify('127.0.0.3')];
      await bothHeld;
      const burst = await verify('127.0.0.3');
      expect(burst.status).toBe(429);
      expect(burst.body.errors[0].extensions).toEqual({ code: 'TOO_MANY_IN_FLIGHT', max: 2, actual: 3 });
      const other = verify('127.0.0.4');
      for (const state of held) state.hold = false;
      for (const state of held) state.held.splice(0).forEach((release) => release());
      for (const answer of await Promise.all([...slow, other])) expect(answer.body).toEqual(baseline);
    } finally {
      for (const state of held) {
        state.hold = false;
        state.held.splice(0).forEach((release) => release());
      }
    }
  }, 60_000);

  it('refuses control characters in text inputs with BAD_USER_INPUT naming the argument; verify still judges its own codes', async () => {
    const literal = await post(`mutation { registerUnits(input: { model: "CNA1B2H10000\\u0000", count: 1 }) { code } }`);
    expect(literal.body.errors[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' }, message: expect.stringContaining('"input.model" of registerUnits') });
    const variable = await post(`mutation($i: RegisterUnitsInput!) { registerUnits(input: $i) { code } }`, { i: { model: 'CNA1B2H10000', serials: ['ok', 'bad\u0007'] } });
    expect(variable.body.errors[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' }, message: expect.stringContaining('"$i.serials[1]"') });
    // From another address: the registerUnits test above spent this one's budget.
    const note = await post(`query($c: String!) { parseCode(code: $c) { valid } }`, { c: 'CN\u0000' }, '127.0.0.5');
    expect(note.body.errors).toBeUndefined();
  });

  it('stops reading a body over the limit and answers 413', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const total = 64 * 1024 * 1024;
    let written = 0;
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
        req.destroy();
      });
      req.on('error', (e) => (written < total ? undefined : reject(e)));
      const write = () => {
        while (written < total) {
          written += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', write);
        }
        req.end();
      };
      write();
    });
    expect(status).toBe(413);
    // The answer came long before the client could push the whole body.
    expect(written).toBeLessThan(total);
  }, 60_000);

  it('serves the landing page with a strict Content-Security-Policy and nosniff', async () => {
    const res = await fetch(gateway.url.replace(/\/graphql$/, '/'), { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    // GraphiQL's bundle, from this origin only; no inline script, no eval, no other host.
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).not.toMatch(/unsafe-eval|https?:|\*/);
  });
});

describe('schema privacy', () => {
  it('hides introspection and suggestions from anonymous callers in production, not from signed-in ones', async () => {
    const directory = { registries: [{ name: 'CN registry', countries: ['CN'], home: true, subgraphs: { enterprises: 'http://127.0.0.1:9/graphql', 'product-models': 'http://127.0.0.1:9/graphql', units: 'http://127.0.0.1:9/graphql', lifecycle: 'http://127.0.0.1:9/graphql' } }] };
    const run = async (hide: boolean) => {
      const { apollo, limits } = await createGateway({ directory, store: { checkConformance: false }, limits: { hideSchemaFromAnonymous: hide } });
      await apollo.start();
      const ask = async (query: string, subject?: string) => {
        const response = await apollo.executeOperation({ query }, { contextValue: { requestId: randomUUID(), caller: subject ? { subject, role: 'analyst' } : null, log: rootLogger(), clientAddress: '192.0.2.1' } });
        return response.body.kind === 'single' ? response.body.singleResult : undefined;
      };
      try {
        return {
          anonymous: await ask('{ __schema { queryType { name } } }'),
          signedIn: await ask('{ __schema { queryType { name } } }', 'analyst-1'),
          typo: await ask('{ registriez { country } }'),
          typoSignedIn: await ask('{ registriez { country } }', 'analyst-1'),
        };
      } finally {
        await apollo.stop();
        await limits?.close();
      }
    };
    const production = await run(true);
    expect(production.anonymous?.errors?.[0]?.extensions?.code).toBe('INTROSPECTION_DISABLED');
    expect(production.signedIn?.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    expect(production.typo?.errors?.[0]?.message).not.toContain('Did you mean');
    expect(production.typoSignedIn?.errors?.[0]?.message).toContain('Did you mean "registries"');
    const development = await run(false);
    expect(development.anonymous?.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    expect(development.typo?.errors?.[0]?.message).toContain('Did you mean "registries"');
  }, 60_000);
});
