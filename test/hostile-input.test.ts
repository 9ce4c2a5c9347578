import { randomBytes, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { generateKeyPair, importJWK, SignJWT, UnsecuredJWT, type CryptoKey } from 'jose';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_AUDIENCE, DEVELOPMENT_ISSUER } from '../gateway/identity/development-key.js';
import { LIMIT_CODES } from '../gateway/limits/limit-error.js';
import { DEFAULT_LIMITS_CONFIG } from '../gateway/limits/limits-config.js';
import { REGISTRY_ERROR_CODES } from '../lib/errors.js';
import { rootLogger, setRootLogger } from '../lib/logging/logger.js';
import { encodeCaller, SIGNATURE_HEADERS, signRequest } from '../lib/security/request-signer.js';
import type { Caller as SignedCaller } from '../lib/server/request-context.js';
import { AUTHORITY, startFederation, type Caller, type Federation } from './support/federation.js';
import { captureLogs } from './support/log-capture.js';
import { seedNode } from './support/seed-node.js';
import { TEST_AUTHORITY, TEST_SIGNING } from './support/signing.js';

/**
 * The end-to-end view of the Trust issue: a real federation (CN home node, gateway with identity) under
 * each attack at once with a legitimate customs check. Every attack gets a clear refusal with a stable
 * code, writes nothing to any table of the four subgraphs, leaves both processes serving, and the
 * legitimate `verify` sent alongside it still answers ADMIT. The focused tests of each mechanism are
 * limits.test.ts, identity.test.ts and request-signing.test.ts.
 */
const SCHEMAS = ['enterprises', 'product_models', 'units', 'lifecycle'];
/** Every code a refusal may carry: the registry's, the limits', and the HTTP layer's 413. */
const STABLE_CODES = new Set<string>([...REGISTRY_ERROR_CODES, ...LIMIT_CODES, 'PAYLOAD_TOO_LARGE']);

const VICTIM = 'CNVICT';
const VICTIM_MODEL = 'CNVICT000001';
const RECALLED_MODEL = 'CNVICT000002';
const ATTACKER = 'CNEVIL';
const ATTACKER_MODEL = 'CNEVIL000001';

const EVIL_MAKER: Caller = { subject: 'evil-maker', role: 'manufacturer', enterprise: ATTACKER };
const VICTIM_MAKER: Caller = { subject: 'victim-maker', role: 'manufacturer', enterprise: VICTIM };
const CUSTOMS: Caller = { subject: 'de-customs', role: 'customs', country: 'DE' };
const PARTNER: Caller = { subject: 'de-registry', role: 'partner', country: 'DE' };
const ANALYST: Caller = { subject: 'analyst-1', role: 'analyst' };

interface Answer {
  status: number;
  headers: Headers;
  body: { data?: any; errors?: { message: string; extensions?: Record<string, any> }[] };
  requestId: string | null;
}

async function send(url: string, body: string | object, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Answer['body'], requestId: response.headers.get('x-request-id') };
}

/** Every error of the answer carries `code`, the message matches, and no data came back. */
function expectRefused(answer: Answer, code: string, message?: RegExp, status?: number) {
  const errors = answer.body.errors ?? [];
  expect(errors.length, JSON.stringify(answer.body)).toBeGreaterThan(0);
  expect(errors.map((e) => e.extensions?.code)).toEqual(errors.map(() => code));
  if (message) expect(errors[0]!.message).toMatch(message);
  if (status !== undefined) expect(answer.status).toBe(status);
  expect(Object.values(answer.body.data ?? {}).filter((v) => v !== null)).toEqual([]);
}

describe('under attack, the registry still serves', () => {
  const logs = captureLogs('info');
  const previousLogger = rootLogger();
  let fed: Federation;
  let tables: string[];
  let cleanUnit: string;
  let victimUnits: string[];
  let attackerUnits: string[];
  let campaign: string;

  /** A GraphQL request to the gateway: a query string, or a whole `{ query, variables }` body. */
  const gateway = (request: string | { query: string; variables?: unknown }, as: Caller = null) =>
    fed.headers(as).then((headers) => send(fed.gateway.url, typeof request === 'string' ? { query: request } : request, headers));

  /** Rows of every table of the four subgraphs' schemas, in one statement. */
  async function rowCounts(): Promise<Record<string, number>> {
    const quoted = (table: string) => table.split('.').map((part) => `"${part}"`).join('.');
    const columns = tables.map((t) => `(select count(*) from ${quoted(t)})::int as "${t}"`).join(', ');
    const { rows } = await sql.raw<Record<string, number>>(`select ${columns}`).execute(fed.databases[0]!.forSchema('enterprises'));
    return rows[0]!;
  }

  const verdictOf = async (code: string) => {
    const answer = await gateway({ query: 'query($c: String!) { verify(code: $c) { verdict reasons { code } } }', variables: { c: code } });
    return answer.body.data?.verify?.verdict as string | undefined;
  };

  async function expectServing() {
    expect((await fetch(fed.gateway.url.replace(/\/graphql$/, '/health/ready'))).status).toBe(200);
    for (const url of Object.values(fed.nodes[0]!.urls)) expect((await fetch(url!.replace(/\/graphql$/, '/health/live'))).status).toBe(200);
  }

  /** Runs the attack with a legitimate verify of a clean unit beside it; nothing may be written. */
  async function underAttack<T>(attack: () => Promise<T>): Promise<T> {
    const before = await rowCounts();
    const [result, verdict] = await Promise.all([attack(), verdictOf(cleanUnit)]);
    expect(verdict).toBe('ADMIT');
    expect(await rowCounts()).toEqual(before);
    await expectServing();
    return result;
  }

  /** The gateway refused the request itself: no subgraph logged a request with its id. */
  const subgraphLines = (requestId: string | null) => logs.lines.filter((l) => l.requestId === requestId && l.service !== 'gateway' && l.msg === 'request');

  beforeAll(async () => {
    setRootLogger(logs.logger);
    fed = await startFederation([{ country: 'CN' }]);
    victimUnits = await seedNode(fed.nodes[0]!, VICTIM, VICTIM_MODEL, 3);
    cleanUnit = victimUnits[0]!;
    attackerUnits = await seedNode(fed.nodes[0]!, ATTACKER, ATTACKER_MODEL, 2);
    const recall = await fed.query(`mutation {
      registerProductModel(input: { code: "${RECALLED_MODEL}", name: "V2", category: "humanoid" }) { code }
      openRecall(input: { model: "${RECALLED_MODEL}", defect: "arm joint", remedy: "replace joint" }) { code }
    }`);
    expect(recall.errors).toBeUndefined();
    campaign = recall.data.openRecall.code;
    const { rows } = await sql<{ name: string }>`
      select table_schema || '.' || table_name as name from information_schema.tables
      where table_schema in (${sql.join(SCHEMAS)}) and table_type = 'BASE TABLE' order by 1`.execute(fed.databases[0]!.forSchema('enterprises'));
    tables = rows.map((r) => r.name);
    expect(tables.length).toBeGreaterThanOrEqual(SCHEMAS.length);
    expect(await verdictOf(cleanUnit)).toBe('ADMIT');
  }, 120_000);

  afterAll(async () => {
    await fed?.stop();
    setRootLogger(previousLogger);
  });

  it('sees the subgraph calls of a legitimate request (so "no subgraph call" below can fail)', async () => {
    const answer = await gateway({ query: 'query($c: String!) { verify(code: $c) { verdict } }', variables: { c: cleanUnit } });
    expect(answer.body.data.verify.verdict).toBe('ADMIT');
    expect(subgraphLines(answer.requestId).length).toBeGreaterThan(0);
  });

  describe('writes by callers without the right', () => {
    it('refuses anonymous registerProductModel and registerUnits under another company', async () => {
      const [model, units] = await underAttack(() =>
        Promise.all([
          gateway(`mutation { registerProductModel(input: { code: "${VICTIM}000009", name: "Fake", category: "humanoid" }) { code } }`),
          gateway(`mutation { registerUnits(input: { model: "${VICTIM_MODEL}", count: 5 }) { code } }`),
        ]),
      );
      expectRefused(model, 'UNAUTHENTICATED', /registerProductModel needs a signed-in caller/);
      expectRefused(units, 'UNAUTHENTICATED', /registerUnits needs a signed-in caller/);
    });

    it("refuses a manufacturer's registerUnits and registerProductModel under another enterprise; the would-be counterfeit code is not admitted", async () => {
      const counterfeit = `${VICTIM_MODEL}${'4'.padStart(17, '0')}`;
      const [units, serials, model] = await underAttack(() =>
        Promise.all([
          gateway(`mutation { registerUnits(input: { model: "${VICTIM_MODEL}", count: 5 }) { code } }`, EVIL_MAKER),
          gateway({ query: 'mutation($i: RegisterUnitsInput!) { registerUnits(input: $i) { code } }', variables: { i: { model: VICTIM_MODEL.toLowerCase(), serials: [counterfeit.slice(12)] } } }, EVIL_MAKER),
          gateway(`mutation { registerProductModel(input: { code: "${VICTIM}000009", name: "Fake", category: "humanoid" }) { code } }`, EVIL_MAKER),
        ]),
      );
      for (const answer of [units, serials, model]) expectRefused(answer, 'FORBIDDEN', new RegExp(`manufacturer ${ATTACKER} may use Mutation\\.\\w+ only for codes under its own enterprise`));
      expect(await verdictOf(counterfeit)).not.toBe('ADMIT');
    });

    it("refuses REPORTED_STOLEN on someone else's robot, from every caller but the authority and its maker", async () => {
      const stolen = { query: 'mutation($e: [LifecycleEventInput!]!) { recordEvents(events: $e) { eventId } }', variables: { e: [{ eventId: `evil-${randomUUID()}`, unit: cleanUnit, type: 'REPORTED_STOLEN', occurredAt: new Date().toISOString() }] } };
      const [anonymous, maker, customs, mixed] = await underAttack(() =>
        Promise.all([
          gateway(stolen, null),
          gateway(stolen, EVIL_MAKER),
          gateway(stolen, CUSTOMS),
          // One own unit does not carry a foreign one through: the whole call is refused.
          gateway({ ...stolen, variables: { e: [{ ...stolen.variables.e[0], unit: attackerUnits[0] }, stolen.variables.e[0]] } }, EVIL_MAKER),
        ]),
      );
      expectRefused(anonymous, 'UNAUTHENTICATED');
      expectRefused(maker, 'FORBIDDEN', new RegExp(`"${cleanUnit}" is not`));
      expectRefused(customs, 'FORBIDDEN', /role customs may not use Mutation.recordEvents/);
      expectRefused(mixed, 'FORBIDDEN');
      expect(await verdictOf(cleanUnit)).toBe('ADMIT');
    });

    it('refuses setEnterpriseStatus, openRecall and closeRecall by non-authorities', async () => {
      const revoke = `mutation { setEnterpriseStatus(code: "${VICTIM}", status: REVOKED, reason: "hostile") { status } }`;
      const recall = `mutation { openRecall(input: { model: "${VICTIM_MODEL}", defect: "made up", remedy: "none" }) { code } }`;
      const close = `mutation { closeRecall(code: "${campaign}") { closedAt } }`;
      const answers = await underAttack(() =>
        Promise.all([
          ...[null, EVIL_MAKER, VICTIM_MAKER, CUSTOMS, PARTNER, ANALYST].map((as) => gateway(revoke, as)),
          ...[null, EVIL_MAKER, CUSTOMS, ANALYST].map((as) => gateway(recall, as)),
          ...[null, EVIL_MAKER, VICTIM_MAKER, CUSTOMS].map((as) => gateway(close, as)),
        ]),
      );
      const codes = answers.map((a) => a.body.errors?.[0]?.extensions?.code);
      expect(codes).toEqual([
        'UNAUTHENTICATED', 'FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN',
        'UNAUTHENTICATED', 'FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN',
        'UNAUTHENTICATED', 'FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN',
      ]);
      for (const answer of answers) expect(answer.body.data ?? null).toBeNull();
      // Even the model's own maker may not close a campaign: that is the authority's decision.
      expect(answers[12]!.body.errors![0]!.message).toMatch(/role manufacturer may not use Mutation.closeRecall/);
      const state = await fed.query(`{ enterprise(code: "${VICTIM}") { status } productModel(code: "${RECALLED_MODEL}") { recalls { closedAt } } }`);
      expect(state.data).toEqual({ enterprise: { status: 'ACTIVE' }, productModel: { recalls: [{ closedAt: null }] } });
    });

    it('rate-limits registerUnits(count: 1000) in a loop with 429 and Retry-After', async () => {
      const flooder: Caller = { subject: 'evil-flood', role: 'manufacturer', enterprise: ATTACKER };
      const allowed = DEFAULT_LIMITS_CONFIG.subjectRate.points / 1_000;
      const answers = await underAttack(async () => {
        const sent: Answer[] = [];
        while (sent.length <= allowed * 2 && sent.at(-1)?.status !== 429) {
          sent.push(await gateway(`mutation { registerUnits(input: { model: "${VICTIM_MODEL}", count: 1000 }) { code } }`, flooder));
        }
        return sent;
      });
      // Each call is priced at its count: the budget buys `allowed` calls, the next is refused at the gateway.
      expect(answers).toHaveLength(allowed + 1);
      for (const answer of answers.slice(0, -1)) expectRefused(answer, 'FORBIDDEN');
      const limited = answers.at(-1)!;
      expectRefused(limited, 'RATE_LIMITED', /./, 429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(limited.body.errors![0]!.extensions).toMatchObject({ max: DEFAULT_LIMITS_CONFIG.subjectRate.points, actual: 1000 });
      expect(subgraphLines(limited.requestId)).toEqual([]);
    });
  });

  describe('straight to a subgraph port', () => {
    const write = (code: string) => JSON.stringify({ query: `mutation { registerEnterprise(input: { code: "${code}", name: "Backdoor Robotics" }) { code } }` });
    const enterprisesUrl = () => fed.nodes[0]!.urls.enterprises!;
    const signed = (body: string, options: { secret?: Buffer; at?: number; caller?: SignedCaller | null } = {}) =>
      signRequest(options.secret ?? TEST_SIGNING.secret, { body, requestId: randomUUID(), caller: options.caller === undefined ? TEST_AUTHORITY : options.caller }, options.at ?? Date.now());

    it('refuses unsigned, forged, replayed, stale and claim-spoofing writes with 401', async () => {
      // A write the gateway really signed, captured on the wire, to be replayed below.
      const captured = write('CNRPLY');
      const capturedHeaders = signed(captured);
      expect((await send(enterprisesUrl(), captured, capturedHeaders)).body.data).toEqual({ registerEnterprise: { code: 'CNRPLY' } });

      const body = write('CNBACK');
      const spoofed = { [SIGNATURE_HEADERS.caller]: encodeCaller({ subject: 'mallory', role: 'authority' }) };
      const [unsigned, forged, replayed, stale, claims] = await underAttack(() =>
        Promise.all([
          send(enterprisesUrl(), body),
          send(enterprisesUrl(), body, signed(body, { secret: randomBytes(32) })),
          send(enterprisesUrl(), captured, capturedHeaders),
          send(enterprisesUrl(), body, signed(body, { at: Date.now() - 31_000 })),
          send(enterprisesUrl(), body, spoofed),
        ]),
      );
      expectRefused(unsigned, 'UNAUTHENTICATED', /^request signature missing$/, 401);
      expectRefused(forged, 'UNAUTHENTICATED', /^request signature invalid$/, 401);
      expectRefused(replayed, 'UNAUTHENTICATED', /^nonce replayed$/, 401);
      expectRefused(stale, 'UNAUTHENTICATED', /^request older than 30 s$/, 401);
      expectRefused(claims, 'UNAUTHENTICATED', /^request signature missing$/, 401);
    });

    it('grants nothing for x-registry-* headers sent to the gateway, even ones signed with the real secret', async () => {
      const body = JSON.stringify({ query: `mutation { setEnterpriseStatus(code: "${VICTIM}", status: SUSPENDED, reason: "spoofed") { status } }` });
      const asAuthority = signed(body);
      const [anonymous, maker] = await underAttack(() =>
        Promise.all([
          send(fed.gateway.url, body, asAuthority),
          fed.headers(EVIL_MAKER).then((headers) => send(fed.gateway.url, body, { ...headers, ...signed(body) })),
        ]),
      );
      expectRefused(anonymous, 'UNAUTHENTICATED');
      expectRefused(maker, 'FORBIDDEN', /role manufacturer may not use Mutation.setEnterpriseStatus/);
    });

    it('refuses _entities with 20,000 representations, signed', async () => {
      const representations = Array.from({ length: 20_000 }, (_, i) => ({ __typename: 'Unit', code: `${VICTIM_MODEL}${String(i + 1).padStart(17, '0')}` }));
      const body = JSON.stringify({ query: 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Unit { code } } }', variables: { r: representations } });
      const answer = await underAttack(() => send(fed.nodes[0]!.urls.units!, body, signed(body, { caller: null })));
      expectRefused(answer, 'LIMIT_EXCEEDED', /at most 1000 representations, got 20000/);
      expect(answer.body.errors![0]!.extensions).toMatchObject({ max: 1_000 });
    });
  });

  describe('queries priced before anything is fetched', () => {
    it('refuses a 219-byte query of three nested connections of first: 100 before any subgraph call', async () => {
      const nested = '{ registries { enterprises(first: 100) { edges { node { display productModels(first: 100) { edges { node { display category units(first: 100) { edges { node { code display serial registeredAt state } } } } } } } } } } }';
      expect(Buffer.byteLength(nested)).toBe(219);
      const answer = await underAttack(() => gateway({ query: nested }));
      expectRefused(answer, 'LIMIT_EXCEEDED', /would be fetched for 10000 items/, 400);
      expect(answer.body.errors![0]!.extensions).toMatchObject({ limit: 'ITEMS_PER_FIELD', max: 1_000, actual: 10_000, field: 'registries.enterprises.edges.node.productModels.edges.node.units' });
      expect(subgraphLines(answer.requestId)).toEqual([]);
    });

    it('refuses 2,000 aliases of unit(code) and 20 aliases of a 1,000-code verifyMany sharing one variable', async () => {
      const aliases = Array.from({ length: 2_000 }, (_, i) => `u${i}: unit(code: "${cleanUnit}") { code }`).join(' ');
      const shared = Array.from({ length: 20 }, (_, i) => `v${i}: verifyMany(codes: $c) { verdict }`).join(' ');
      const codes = Array.from({ length: 1_000 }, (_, i) => `${VICTIM_MODEL}${String(i + 1).padStart(17, '0')}`);
      const [aliased, many] = await underAttack(() => Promise.all([gateway({ query: `{ ${aliases} }` }), gateway({ query: `query($c: [String!]!) { ${shared} }`, variables: { c: codes } })]));
      expectRefused(aliased, 'TOO_MANY_TOKENS', /more than 5000 tokens/, 400);
      expectRefused(many, 'LIMIT_EXCEEDED', /names 20000 codes/, 400);
      expect(many.body.errors![0]!.extensions).toMatchObject({ limit: 'CODES_PER_REQUEST', max: 1_000, actual: 20_000 });
      expect([...subgraphLines(aliased.requestId), ...subgraphLines(many.requestId)]).toEqual([]);
    });
  });

  describe('credentials', () => {
    it('refuses forged, expired, alg:none, wrong-audience and unknown-kid tokens with 401', async () => {
      const jwk = fed.privateJwk;
      const key = await importJWK(jwk, jwk.alg);
      const now = Math.floor(Date.now() / 1000);
      const token = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}, signingKey: CryptoKey | Uint8Array = key as CryptoKey) =>
        new SignJWT({ role: 'authority', sub: 'mallory', iss: DEVELOPMENT_ISSUER, aud: DEFAULT_AUDIENCE, exp: now + 600, ...claims })
          .setProtectedHeader({ alg: jwk.alg!, kid: jwk.kid!, ...header })
          .sign(signingKey);
      const outsider = (await generateKeyPair('EdDSA')).privateKey;
      const cases: [string, string, RegExp][] = [
        ['forged', await token({}, {}, outsider), /signature does not verify/],
        ['expired', await token({ exp: now - 120 }), /expired at/],
        ['alg none', new UnsecuredJWT({ role: 'authority', sub: 'mallory', iss: DEVELOPMENT_ISSUER, aud: DEFAULT_AUDIENCE, exp: now + 600 }).encode(), /algorithm "none" is not accepted/],
        ['wrong audience', await token({ aud: 'another-registry' }), /wrong audience "another-registry"/],
        ['unknown kid', await token({}, { kid: 'nobody' }), /unknown key id \(kid\) "nobody"/],
      ];
      const body = { query: `mutation { setEnterpriseStatus(code: "${VICTIM}", status: REVOKED, reason: "token") { status } }` };
      const answers = await underAttack(() => Promise.all(cases.map(([, jwt]) => send(fed.gateway.url, body, { authorization: `Bearer ${jwt}` }))));
      cases.forEach(([name, , reason], i) => {
        expect(answers[i]!.status, name).toBe(401);
        expectRefused(answers[i]!, 'UNAUTHENTICATED', reason);
      });
    });
  });

  describe('malformed input', () => {
    it('refuses wrong variable types with BAD_USER_INPUT', async () => {
      const [count, codes] = await underAttack(() =>
        Promise.all([
          gateway({ query: 'mutation($m: ID!, $n: Int) { registerUnits(input: { model: $m, count: $n }) { code } }', variables: { m: ATTACKER_MODEL, n: 'many' } }, AUTHORITY),
          gateway({ query: 'query($c: [String!]!) { verifyMany(codes: $c) { verdict } }', variables: { c: 5 } }),
        ]),
      );
      expectRefused(count, 'BAD_USER_INPUT', /\$n/, 400);
      expectRefused(codes, 'BAD_USER_INPUT', /\$c/, 400);
    });

    it('refuses control characters and NUL in names and notes with BAD_USER_INPUT, not a 500', async () => {
      const note = { eventId: `note-${randomUUID()}`, unit: victimUnits[1], type: 'MAINTAINED', occurredAt: new Date().toISOString(), note: 'oil\u0007change' };
      const [name, literal, events] = await underAttack(() =>
        Promise.all([
          gateway({ query: 'mutation($i: RegisterEnterpriseInput!) { registerEnterprise(input: $i) { code } }', variables: { i: { code: 'CNNULL', name: 'Evil\u0000Corp' } } }, AUTHORITY),
          gateway(`mutation { registerProductModel(input: { code: "${VICTIM}000008", name: "Null\\u0000Model", category: "humanoid" }) { code } }`, VICTIM_MAKER),
          gateway({ query: 'mutation($e: [LifecycleEventInput!]!) { recordEvents(events: $e) { eventId } }', variables: { e: [note] } }, VICTIM_MAKER),
        ]),
      );
      expectRefused(name, 'BAD_USER_INPUT', /"\$i\.name"/, 400);
      expectRefused(literal, 'BAD_USER_INPUT', /"input\.name" of registerProductModel/, 400);
      expectRefused(events, 'BAD_USER_INPUT', /"\$e\[0\]\.note"/, 400);
    });

    it('refuses an oversized body with 413', async () => {
      const huge = JSON.stringify({ query: '{ __typename }', variables: { padding: 'x'.repeat(3 * 1024 * 1024) } });
      const answer = await underAttack(() => send(fed.gateway.url, huge));
      expectRefused(answer, 'PAYLOAD_TOO_LARGE', /request body over the \d+-byte limit/, 413);
    });
  });

  describe('fuzzed mutation inputs', () => {
    let runs = 0;
    const seen: string[] = [];
    /** Callers with fresh subjects, so the fuzz measures the inputs and not the rate budget. */
    const authority = (): Caller => ({ subject: `fuzz-authority-${runs++}`, role: 'authority' });
    const maker = (): Caller => ({ subject: `fuzz-maker-${runs++}`, role: 'manufacturer', enterprise: ATTACKER });

    const hostileText = fc.constantFrom('', ' ', '\u0000', 'A\u0007B', '\u202Eevil', "'; drop table units.unit; --", '%s%n', '\uD800', 'x'.repeat(600), '🤖'.repeat(50));
    const text = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 30 }), fc.string({ unit: 'grapheme', maxLength: 12 }), hostileText);
    const codeChars = fc.constantFrom(...'0123456789ABCDEFXYZ-  a'.split(''));
    /** Mostly code-shaped (right country, near the right length), sometimes a real code, sometimes anything. */
    const code = (length: number, real: () => string[]) =>
      fc.oneof(
        { weight: 2, arbitrary: fc.tuple(fc.constantFrom('CN', 'cn', 'ZZ', 'DE', `${ATTACKER}`, `${VICTIM}`), fc.string({ unit: codeChars, minLength: Math.max(0, length - 8), maxLength: length - 1 })).map(([prefix, rest]) => (prefix + rest).slice(0, length + 1)) },
        { weight: 3, arbitrary: fc.constantFrom(...real()) },
        { weight: 1, arbitrary: text },
      );
    const serial = fc.string({ unit: fc.constantFrom(...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'.split('')), minLength: 17, maxLength: 17 });
    const int = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: -3, max: 12 }) }, fc.integer(), fc.constantFrom(0, 1_000, 1_001, 2 ** 31 - 1, -(2 ** 31)), fc.maxSafeInteger(), fc.double({ noNaN: true }));
    /** Now and then a value of the wrong JSON type altogether. */
    const orWrongType = <T>(arbitrary: fc.Arbitrary<T>) => fc.oneof({ weight: 19, arbitrary }, { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 })) });
    const occurredAt = fc.oneof({ weight: 4, arbitrary: fc.date({ noInvalidDate: true, min: new Date('2020-01-01'), max: new Date() }).map((d) => d.toISOString()) }, fc.date({ noInvalidDate: true, min: new Date('2000-01-01'), max: new Date('2030-01-01') }).map((d) => d.toISOString()), fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), text);
    const eventTypes = ['MANUFACTURED', 'SOLD', 'OWNERSHIP_TRANSFERRED', 'EXPORTED', 'IMPORTED', 'DEPLOYED', 'MAINTAINED', 'REPAIRED', 'SOFTWARE_UPDATED', 'RECALL_REMEDIED', 'REPORTED_STOLEN', 'RECOVERED', 'DECOMMISSIONED', 'SCRAPPED', 'RECYCLED'];
    const models = () => [ATTACKER_MODEL, VICTIM_MODEL, RECALLED_MODEL];
    // Never the clean unit: the verify beside each attack must stay ADMIT.
    const units = () => [...attackerUnits, ...victimUnits.slice(1)];

    /** Built once the federation is seeded (real codes are among the candidates). */
    const mutationInputs = () => ({
      registerEnterprise: {
        query: 'mutation($i: RegisterEnterpriseInput!) { registerEnterprise(input: $i) { code name } }',
        variables: fc.record({ i: orWrongType(fc.record({ code: orWrongType(code(6, () => [ATTACKER, VICTIM])), name: orWrongType(text) })) }),
      },
      registerProductModel: {
        query: 'mutation($i: RegisterProductModelInput!) { registerProductModel(input: $i) { code name category } }',
        variables: fc.record({ i: orWrongType(fc.record({ code: orWrongType(code(12, models)), name: orWrongType(text), category: orWrongType(text) })) }),
      },
      registerUnits: {
        query: 'mutation($i: RegisterUnitsInput!) { registerUnits(input: $i) { code } }',
        variables: fc.record({
          i: orWrongType(
            fc.oneof(
              fc.record({ model: orWrongType(code(12, models)), count: orWrongType(int) }),
              fc.record({ model: orWrongType(code(12, models)), serials: orWrongType(fc.array(fc.oneof({ weight: 3, arbitrary: serial }, { weight: 1, arbitrary: text }), { minLength: 1, maxLength: 4 })) }),
              fc.record({ model: orWrongType(code(12, models)), serials: orWrongType(fc.array(text, { maxLength: 2 })), count: orWrongType(int) }, { requiredKeys: ['model'] }),
            ),
          ),
        }),
      },
      recordEvents: {
        query: 'mutation($e: [LifecycleEventInput!]!) { recordEvents(events: $e) { eventId type } }',
        variables: fc.record({
          e: orWrongType(
            fc.array(
              fc.record(
                {
                  eventId: orWrongType(fc.oneof({ weight: 4, arbitrary: fc.uuid() }, { weight: 1, arbitrary: text })),
                  unit: orWrongType(code(29, units)),
                  type: orWrongType(fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...eventTypes) }, { weight: 1, arbitrary: text })),
                  occurredAt: orWrongType(occurredAt),
                  owner: orWrongType(fc.oneof({ weight: 6, arbitrary: fc.constantFrom('owner-1', 'acme:fleet.7') }, { weight: 1, arbitrary: text })),
                  country: orWrongType(fc.oneof({ weight: 6, arbitrary: fc.constantFrom('DE', 'FR', 'CN') }, { weight: 1, arbitrary: text })),
                  recall: orWrongType(fc.oneof({ weight: 3, arbitrary: fc.constant(`${RECALLED_MODEL}R0001`) }, { weight: 1, arbitrary: text })),
                  note: orWrongType(fc.oneof({ weight: 3, arbitrary: fc.string({ maxLength: 40 }) }, { weight: 1, arbitrary: text })),
                },
                { requiredKeys: ['eventId', 'unit', 'type', 'occurredAt'] },
              ),
              { minLength: 1, maxLength: 3 },
            ),
          ),
        }),
      },
    });

    /** Success, or a refusal with one of our codes that wrote nothing; never a 5xx or an internal error. */
    async function judge(query: string, variables: unknown, as: Caller) {
      const before = await rowCounts();
      const answer = await gateway({ query, variables }, as);
      const context = JSON.stringify({ variables, status: answer.status, body: answer.body }).slice(0, 2_000);
      expect(answer.status, context).toBeLessThan(500);
      const codes = (answer.body.errors ?? []).map((e) => e.extensions?.code);
      seen.push(codes[0] ?? 'ok');
      for (const code of codes) expect(STABLE_CODES.has(code), context).toBe(true);
      if (codes.length > 0) expect(await rowCounts(), context).toEqual(before);
      else expect(Object.values(answer.body.data ?? {}).every((v) => v !== null), context).toBe(true);
    }

    for (const name of ['registerEnterprise', 'registerProductModel', 'registerUnits', 'recordEvents'] as const) {
      it(`answers every ${name} input with success or a stable refusal, as the authority and as a manufacturer`, async () => {
        const { query, variables } = mutationInputs()[name];
        for (const caller of [authority, maker]) {
          await fc.assert(fc.asyncProperty(variables, (v) => judge(query, v, caller())), { numRuns: 60 });
        }
        // Not all stopped at the door: some inputs reached the subgraphs' own checks, or succeeded.
        expect(seen.filter((code) => code !== 'BAD_USER_INPUT').length).toBeGreaterThan(0);
        seen.length = 0;
        expect(await verdictOf(cleanUnit)).toBe('ADMIT');
        await expectServing();
      }, 120_000);
    }
  });
});
