import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openDatabase, type Database } from '../lib/database/database.js';
import { startGateway, type RunningGateway } from '../gateway/gateway-server.js';
import { DEFAULT_AUDIENCE, DEVELOPMENT_ISSUER, ensureDevelopmentKey, signToken, type TokenRequest } from '../gateway/identity/development-key.js';
import { identityFromEnv } from '../gateway/identity/identity-from-env.js';
import { startRegistryNode, type RunningNode } from '../subgraphs/registry-node.js';
import { captureLogs, LEVEL, type LogLine } from './support/log-capture.js';
import { signedPost, TEST_SIGNING } from './support/signing.js';
import { createTestDatabase } from './support/test-database.js';

const UNIT = 'CNAAAA000001AAAAAAAAAAAAAAAAA';
const SECRET = 'Bearer s3cret-token-never-logged';

interface LoggedFederation {
  gateway: RunningGateway;
  node: RunningNode;
  database: Database;
  /** Lines of the gateway and of the node's subgraphs, in the order they were written. */
  lines: LogLine[];
  raw: string[];
  post(query: string, requestId: string, options?: PostOptions): Promise<Response>;
  stop(): Promise<void>;
}

interface PostOptions {
  /** Signs in as this caller (a token of the gateway's key); default anonymous. */
  as?: Omit<TokenRequest, 'issuer' | 'audience' | 'ttl'>;
  /** An Authorization header value of the test's own. */
  authorization?: string;
  variables?: Record<string, unknown>;
  operationName?: string;
}

/** One CN node and a gateway in front of it, both logging into memory. */
async function startLogged(options: { repeatWindowMs?: number; anonymousPoints?: number } = {}): Promise<LoggedFederation> {
  const { logger, lines, raw } = captureLogs('debug', options);
  const testDb = await createTestDatabase();
  const database = await openDatabase(testDb.config);
  const node = await startRegistryNode({ node: { country: 'CN', name: 'CN registry' }, database, logger, signing: TEST_SIGNING });
  const directory = { registries: [{ name: 'CN registry', countries: ['CN'], home: true, subgraphs: node.urls }] };
  const keyDir = mkdtempSync(join(tmpdir(), 'logging-keys-'));
  const identity = await identityFromEnv({ dataDir: keyDir, env: {} });
  const { privateJwk } = await ensureDevelopmentKey(keyDir);
  const gateway = await startGateway({ directory, logger, identity, signing: TEST_SIGNING, limits: { maxInFlightPerCaller: 1_000, ...(options.anonymousPoints ? { anonymousRate: { points: options.anonymousPoints, windowSeconds: 60 } } : {}) } });
  return {
    gateway,
    node,
    database,
    lines,
    raw,
    post: async (query, requestId, { as, authorization, variables, operationName } = {}) =>
      fetch(gateway.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-request-id': requestId,
          ...(as ? { authorization: `Bearer ${await signToken(privateJwk, { ...as, issuer: DEVELOPMENT_ISSUER, audience: DEFAULT_AUDIENCE })}` } : {}),
          ...(authorization ? { authorization } : {}),
        },
        body: JSON.stringify({ query, variables, operationName }),
      }),
    async stop() {
      await gateway.stop();
      await node.stop();
      await database.close().catch(() => undefined);
      await testDb.drop();
      rmSync(keyDir, { recursive: true, force: true });
    },
  };
}

const AUTHORITY = { subject: 'ops-authority', role: 'authority' } as const;
const CUSTOMS = { subject: 'customs-officer-9', role: 'customs', country: 'DE' } as const;

const of = (lines: LogLine[], requestId: string) => lines.filter((line) => line.requestId === requestId);

describe('logging: every line about a request carries its id', () => {
  let fed: LoggedFederation;
  beforeAll(async () => {
    fed = await startLogged();
  });
  afterAll(() => fed?.stop());

  it('writes one access line per request, in the gateway and in each subgraph it reached', async () => {
    const response = await fed.post(`query Scan { unit(code: "${UNIT}") { code state } }`, 'access-line-1');
    expect(response.status).toBe(200);
    const lines = of(fed.lines, 'access-line-1').filter((line) => line.msg === 'request');
    const gateway = lines.filter((line) => line.service === 'gateway');
    expect(gateway).toEqual([
      expect.objectContaining({ level: LEVEL.info, method: 'POST', path: '/graphql', status: 200, operation: 'Scan', ms: expect.any(Number) }),
    ]);
    const subgraphs = lines.filter((line) => line.service !== 'gateway');
    expect(subgraphs.map((line) => line.service)).toContain('units');
    for (const line of subgraphs) expect(line).toMatchObject({ level: LEVEL.info, status: 200, path: '/graphql', country: 'CN' });
  });

  it("logs a client's own mistake once at info (by the gateway), with its code and without a stack", async () => {
    const response = await fed.post('{ unit(code: "not-a-code") { code } }', 'client-mistake-1');
    const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
    const code = body.errors[0]!.extensions.code;
    const refused = of(fed.lines, 'client-mistake-1').filter((line) => line.code === code);
    expect(refused.filter((line) => line.level >= LEVEL.info)).toEqual([expect.objectContaining({ service: 'gateway', level: LEVEL.info })]);
    for (const line of refused) expect(line.err).toBeUndefined();
  });

  it('never writes an Authorization header value', async () => {
    await fed.post(`{ unit(code: "${UNIT}") { code } }`, 'with-credentials-1', { authorization: SECRET });
    expect(of(fed.lines, 'with-credentials-1').length).toBeGreaterThan(0);
    expect(fed.raw.join('')).not.toContain('s3cret-token-never-logged');
  });
});

describe('logging: what a client causes is its own mistake, logged once, without a stack', () => {
  let fed: LoggedFederation;
  beforeAll(async () => {
    fed = await startLogged();
  });
  afterAll(() => fed?.stop());

  const noStacks = (lines: LogLine[]) => lines.filter((line) => line.level >= LEVEL.warn || line.err);

  it('names the caller and the operation on every access line, anonymous callers and unnamed operations included', async () => {
    await fed.post('query Look { parseCode(code: "CNHMRBH1A00100000000000000002") { valid } }', 'named-anon-1');
    await fed.post(`{ unit(code: "${UNIT}") { code } }`, 'unnamed-authority-1', { as: AUTHORITY });
    const [anon] = of(fed.lines, 'named-anon-1').filter((line) => line.msg === 'request' && line.service === 'gateway');
    expect(anon).toMatchObject({ caller: 'anonymous', operation: 'Look' });
    const lines = of(fed.lines, 'unnamed-authority-1').filter((line) => line.msg === 'request');
    expect(lines.length).toBeGreaterThan(1); // the gateway's and the subgraphs'
    for (const line of lines) expect(line).toMatchObject({ caller: AUTHORITY.subject, operation: expect.any(String) });
    expect(lines.find((line) => line.service === 'gateway')).toMatchObject({ operation: '(none)' });
  });

  it('answers a NUL byte the gateway never saw (a request straight to a subgraph) as BAD_USER_INPUT, with no SQL and no stack in the log', async () => {
    const query = 'mutation { registerEnterprise(input: { code: "CNNULL", name: "Robo\\u0000tics" }) { code } }';
    const response = await signedPost(fed.node.urls.enterprises!, 'enterprises', { query }, { requestId: 'nul-byte-1' });
    const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors[0]!.extensions.code).toBe('BAD_USER_INPUT');
    expect(body.errors[0]!.message).toMatch(/cannot store/);
    const lines = of(fed.lines, 'nul-byte-1');
    expect(noStacks(lines)).toEqual([]);
    expect(lines.find((line) => line.code === 'BAD_USER_INPUT')).toMatchObject({ service: 'enterprises', level: LEVEL.debug });
    expect(JSON.stringify(lines)).not.toMatch(/insert into/i);
    expect(lines.find((line) => line.msg === 'request')).toMatchObject({ status: 200, errors: ['BAD_USER_INPUT'] });
  });

  it("keeps a customs officer's check of a code with a NUL byte in the audit log, and logs no error", async () => {
    const code = 'CNAAAA\u0000001AAAAAAAAAAAAAAAAA';
    const response = await fed.post('query($c: String!) { verify(code: $c) { verdict } }', 'nul-verify-1', { as: CUSTOMS, variables: { c: code } });
    expect(await response.json()).toEqual({ data: { verify: { verdict: 'REFUSE' } } });
    await fed.gateway.flushAudit();
    expect(noStacks(fed.lines)).toEqual([]);
    const audit = await fed.post('query($s: String!) { auditLog(first: 5, filter: { subject: $s }) { edges { node { requestId codes } } } }', 'read-audit-1', {
      as: AUTHORITY, variables: { s: CUSTOMS.subject },
    });
    const entries = ((await audit.json()) as any).data.auditLog.edges;
    expect(entries).toEqual([{ node: { requestId: 'nul-verify-1', codes: ['CNAAAA\uFFFD001AAAAAAAAAAAAAAAAA'] } }]);
  });

  it('logs a mistake raised by a subgraph once, at info, by the gateway (the subgraph at debug)', async () => {
    const response = await fed.post('mutation { registerProductModel(input: { code: "CNZZZZM00001", name: "X", category: "Y" }) { code } }', 'subgraph-mistake-1', { as: AUTHORITY });
    const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
    const code = body.errors[0]!.extensions.code;
    expect(code).toBe('UNKNOWN_ENTERPRISE');
    const lines = of(fed.lines, 'subgraph-mistake-1').filter((line) => line.code === code);
    expect(lines.filter((line) => line.level >= LEVEL.info)).toEqual([expect.objectContaining({ service: 'gateway', level: LEVEL.info })]);
    expect(lines.filter((line) => line.level === LEVEL.debug).map((line) => line.service)).toEqual(['product-models']);
    expect(lines.every((line) => line.err === undefined)).toBe(true);
  });

  it('never writes an owner given by mistake as a name, neither from the variables nor from the refusal', async () => {
    const events = [{ eventId: 'owner-name-1', unit: UNIT, type: 'SOLD', occurredAt: '2026-01-05T10:00:00Z', owner: 'Zhang Wei Private-Person' }];
    const response = await fed.post('mutation($e: [LifecycleEventInput!]!) { recordEvents(events: $e) { eventId } }', 'owner-name-1', { as: AUTHORITY, variables: { e: events } });
    const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors[0]!.message).toMatch(/owner must be an opaque reference/);
    expect(of(fed.lines, 'owner-name-1').length).toBeGreaterThan(0);
    expect(fed.raw.join('')).not.toContain('Zhang Wei');
  });

  it('answers an unknown operation name as the client mistake it is (400), not as an internal error', async () => {
    const response = await fed.post('query A { registries { country } }', 'unknown-op-1', { operationName: 'B' });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]!.extensions.code).toBe('OPERATION_RESOLUTION_FAILURE');
    expect(noStacks(of(fed.lines, 'unknown-op-1'))).toEqual([]);
  });
});

describe('logging: a limit refusal', () => {
  it('is the client\'s doing: logged at info with its code, no stack, and named on the access line', async () => {
    const fed = await startLogged({ anonymousPoints: 3 });
    try {
      const response = await fed.post('query($c: [String!]!) { verifyMany(codes: $c) { verdict } }', 'rate-limited-1', { variables: { c: ['A', 'B', 'C', 'D'] } });
      expect(response.status).toBe(429);
      const lines = of(fed.lines, 'rate-limited-1');
      expect(lines.filter((line) => line.level >= LEVEL.warn || line.err)).toEqual([]);
      expect(lines.filter((line) => line.code === 'RATE_LIMITED')).toEqual([expect.objectContaining({ level: LEVEL.info, service: 'gateway' })]);
      expect(lines.find((line) => line.msg === 'request')).toMatchObject({ status: 429, errors: ['RATE_LIMITED'] });
    } finally {
      await fed.stop();
    }
  });
});

describe('logging: repeated identical failures', () => {
  it('are written once per window, then one line counts the ones left out; access lines are all written', async () => {
    const fed = await startLogged({ repeatWindowMs: 3_000 });
    try {
      const ids = ['a', 'b', 'c', 'd', 'e'].map((x) => `repeat-${x}`);
      await Promise.all(ids.map((id) => fed.post('query A { registries { country } }', id, { operationName: 'Missing' })));
      const refusals = fed.lines.filter((line) => line.code === 'OPERATION_RESOLUTION_FAILURE' && line.service === 'gateway');
      expect(refusals).toHaveLength(1);
      expect(ids.map((id) => of(fed.lines, id).filter((line) => line.msg === 'request').length)).toEqual([1, 1, 1, 1, 1]);
      await vi.waitFor(() => expect(fed.lines.filter((line) => line.suppressed !== undefined)).toEqual([
        expect.objectContaining({ suppressed: 4, code: 'OPERATION_RESOLUTION_FAILURE', msg: expect.stringContaining('repeated 4 more times') }),
      ]), { timeout: 10_000, interval: 100 });
      // Once the window has closed, the next one is written in full again.
      await fed.post('query A { registries { country } }', 'repeat-f', { operationName: 'Missing' });
      expect(of(fed.lines, 'repeat-f').filter((line) => line.code === 'OPERATION_RESOLUTION_FAILURE')).toHaveLength(1);
    } finally {
      await fed.stop();
    }
  });
});

describe('logging: an internal failure', () => {
  it('is logged with the request id and the error, by the subgraph and by the gateway, while the client sees a masked message', async () => {
    const fed = await startLogged();
    try {
      await fed.database.close();
      const response = await fed.post(`{ unit(code: "${UNIT}") { code state } }`, 'failed-scan-7');
      const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
      expect(body.errors[0]!.extensions.code).toBe('INTERNAL_SERVER_ERROR');

      const errors = of(fed.lines, 'failed-scan-7').filter((line) => line.level === LEVEL.error);
      const subgraph = errors.find((line) => line.service === 'units');
      expect(subgraph?.err?.message).toBeTruthy();
      expect(subgraph?.err?.stack).toBeTruthy();
      // What the client was spared (the database's own words) is what the log keeps.
      expect(body.errors[0]!.message).not.toContain(subgraph!.err!.message);
      const gateway = errors.find((line) => line.service === 'gateway');
      expect(gateway).toMatchObject({ msg: 'internal error', err: { message: expect.any(String) } });
      expect(fed.raw.join('')).not.toContain('s3cret-token-never-logged');
    } finally {
      await fed.stop();
    }
  });
});

describe('logging: the logger itself', () => {
  it('redacts an Authorization header even when a header map is logged by mistake', () => {
    const { logger, raw } = captureLogs();
    logger.info({ headers: { authorization: SECRET }, req: { headers: { authorization: SECRET } } }, 'headers');
    expect(raw).toHaveLength(1);
    expect(raw[0]).not.toContain('s3cret-token-never-logged');
  });

  it('redacts owner references, request variables and the row values of a database error', () => {
    const { logger, raw } = captureLogs();
    const err = Object.assign(new Error('new row violates check constraint'), { detail: 'Failing row contains (dealer:0042-private)', params: ['dealer:0042-private'] });
    logger.error({ err, variables: { owner: 'dealer:0042-private' }, event: { owner: 'dealer:0042-private' }, owner: 'dealer:0042-private' }, 'failed');
    expect(raw).toHaveLength(1);
    expect(raw[0]).not.toContain('dealer:0042-private');
    expect(raw[0]).toContain('new row violates check constraint');
  });
});
