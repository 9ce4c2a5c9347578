import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateKeyPair, importJWK, SignJWT, UnsecuredJWT, type JWK } from 'jose';
import { DEFAULT_AUDIENCE, DEVELOPMENT_ISSUER, developmentKeyDir, ensureDevelopmentKey, signToken, type TokenRequest } from '../gateway/identity/development-key.js';
import { encodeCaller, SIGNATURE_HEADERS, signRequest } from '../lib/security/request-signer.js';
import { parseSigningSecret, SIGNING_SECRET_ENV } from '../lib/security/signing-secret.js';
import { DEMO_CODES } from './demo/seed.js';

/**
 * The attack drill: against a running registry (`npm start`), sends each attack of the Trust issue once,
 * with a legitimate customs `verify` of a clean unit beside it, and prints what came back: HTTP status,
 * error code, milliseconds to the answer, and whether the legitimate verify still answered ADMIT.
 *
 *   node dist/scripts/attack-drill.js <gatewayUrl> [--node-url <a subgraph url>] [--data-dir data] [--code <clean unit>]
 *
 * Tokens come from the development key in the data folder (DATA_DIR, default data) when it exists; the
 * signing secret from NODE_SIGNING_SECRET or the data folder, for the attacks that need a validly signed
 * request (replay, stale, oversized _entities). Attacks whose prerequisite is missing are listed as skipped.
 * Every attack is one the registry must refuse; nothing is meant to be written. Exit code 1 if any answer
 * differs from the expected refusal or a legitimate verify failed.
 */
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { 'node-url': { type: 'string' }, 'data-dir': { type: 'string' }, code: { type: 'string' } },
});
const gatewayUrl = positionals[0];
if (!gatewayUrl) {
  console.error('usage: node dist/scripts/attack-drill.js <gatewayUrl> [--node-url <a subgraph url>] [--data-dir <dir>] [--code <clean unit code>]');
  process.exit(2);
}
const nodeUrl = values['node-url'];
const dataDir = values['data-dir'] ?? process.env.DATA_DIR ?? 'data';
const cleanUnit = values.code ?? DEMO_CODES.unit;
const victimEnterprise = cleanUnit.slice(0, 6);
const victimModel = cleanUnit.slice(0, 12);
const ATTACKER = victimEnterprise === 'CNZZZZ' ? 'CNYYYY' : 'CNZZZZ';

interface Answer {
  status: number;
  code: string;
  ms: number;
  headers: Headers;
  body: { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
}

interface Row {
  attack: string;
  status: number | '-';
  code: string;
  ms: number | '-';
  verify: string;
  ok: boolean;
}

async function post(url: string, body: string | object, headers: Record<string, string> = {}): Promise<Answer> {
  const started = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  const ms = performance.now() - started;
  let parsed: Answer['body'] = {};
  try {
    parsed = JSON.parse(text) as Answer['body'];
  } catch {
    parsed = { errors: [{ message: text.slice(0, 200) }] };
  }
  const code = parsed.errors?.[0]?.extensions?.code ?? (parsed.errors ? '(no code)' : 'none (answered)');
  return { status: response.status, code, ms, headers: response.headers, body: parsed };
}

// --- credentials the drill can obtain on this machine -------------------------------------------

const keyFile = join(developmentKeyDir(dataDir), 'private.jwk.json');
const privateJwk: JWK | undefined = existsSync(keyFile) ? (await ensureDevelopmentKey(dataDir)).privateJwk : undefined;
const issuer = process.env.JWT_ISSUER ?? DEVELOPMENT_ISSUER;
const audience = process.env.JWT_AUDIENCE ?? DEFAULT_AUDIENCE;
const bearer = async (request: Omit<TokenRequest, 'issuer' | 'audience'>) =>
  privateJwk ? { authorization: `Bearer ${await signToken(privateJwk, { ...request, issuer, audience, ttl: '10m' })}` } : undefined;

const secretText = process.env[SIGNING_SECRET_ENV] ?? (existsSync(join(dataDir, 'signing-secret')) ? readFileSync(join(dataDir, 'signing-secret'), 'utf8') : undefined);
const secret = secretText ? parseSigningSecret(secretText) : undefined;
const signed = (body: string, options: { key?: Buffer; at?: number } = {}) =>
  signRequest(options.key ?? secret!, { body, requestId: `drill-${randomUUID()}`, caller: null }, options.at ?? Date.now());

const maker = await bearer({ subject: 'drill-maker', role: 'manufacturer', enterprise: ATTACKER });
const flooder = await bearer({ subject: 'drill-flooder', role: 'manufacturer', enterprise: ATTACKER });
const customs = await bearer({ subject: 'drill-customs', role: 'customs', country: 'DE' });
// The legitimate check signs in when it can, so the anonymous attacks' rate budget is not its own.
const legitimate = customs ?? {};

async function verifyClean(): Promise<string> {
  const answer = await post(gatewayUrl!, { query: 'query($c: String!) { verify(code: $c) { verdict } }', variables: { c: cleanUnit } }, legitimate);
  return answer.body.data?.verify?.verdict ?? `${answer.status} ${answer.code}`;
}

// --- the drill ----------------------------------------------------------------------------------

const rows: Row[] = [];

/** Sends one attack with a legitimate verify beside it and records the row. */
async function drill(attack: string, expected: { status: number; code: string }, send: () => Promise<Answer>): Promise<Answer | undefined> {
  try {
    const [answer, verdict] = await Promise.all([send(), verifyClean()]);
    const ok = answer.status === expected.status && answer.code === expected.code && verdict === 'ADMIT';
    rows.push({ attack, status: answer.status, code: answer.code, ms: Math.round(answer.ms), verify: verdict, ok });
    return answer;
  } catch (error) {
    rows.push({ attack, status: '-', code: `failed: ${(error as Error).message}`, ms: '-', verify: '-', ok: false });
    return undefined;
  }
}

function skip(attack: string, why: string) {
  rows.push({ attack, status: '-', code: `skipped (${why})`, ms: '-', verify: '-', ok: true });
}

const gql = (query: string, variables?: object, headers: Record<string, string> = {}) => () => post(gatewayUrl, { query, variables }, headers);
const REFUSED = (code: string, status = 200) => ({ status, code });

/** What a reader can count of the registry: it must not change, since every attack is refused. */
async function registryCounts(): Promise<string> {
  if (!customs) return 'unknown (no development key)';
  const query = '{ registries { country unitCount enterprises(first: 1) { totalCount } productModels(first: 1) { totalCount } events(first: 1) { totalCount } } }';
  const answer = await post(gatewayUrl!, { query }, customs);
  return JSON.stringify((answer.body.data?.registries ?? answer.body.errors ?? []).map((r: any) => ({
    country: r.country, units: r.unitCount, enterprises: r.enterprises?.totalCount, models: r.productModels?.totalCount, events: r.events?.totalCount,
  })));
}

const baseline = await verifyClean();
if (baseline !== 'ADMIT') {
  console.error(`verify(${cleanUnit}) answers ${baseline}, not ADMIT: give a clean unit with --code`);
  process.exit(2);
}

const countsBefore = await registryCounts();

// Writes by callers without the right.
await drill('anonymous registerProductModel under another enterprise', REFUSED('UNAUTHENTICATED'),
  gql(`mutation { registerProductModel(input: { code: "${victimEnterprise}ZZZZZ9", name: "Fake", category: "humanoid" }) { code } }`));
await drill('anonymous registerUnits under another enterprise', REFUSED('UNAUTHENTICATED'),
  gql(`mutation { registerUnits(input: { model: "${victimModel}", count: 5 }) { code } }`));
const counterfeit = `${victimModel}${'9'.repeat(16)}8`;
if (maker) {
  await drill(`manufacturer ${ATTACKER} registerUnits under ${victimEnterprise}`, REFUSED('FORBIDDEN'),
    gql('mutation($i: RegisterUnitsInput!) { registerUnits(input: $i) { code } }', { i: { model: victimModel, serials: [counterfeit.slice(12)] } }, maker));
  await drill(`manufacturer ${ATTACKER} recordEvents REPORTED_STOLEN on ${victimEnterprise}'s robot`, REFUSED('FORBIDDEN'),
    gql('mutation($e: [LifecycleEventInput!]!) { recordEvents(events: $e) { eventId } }', { e: [{ eventId: `drill-${randomUUID()}`, unit: cleanUnit, type: 'REPORTED_STOLEN', occurredAt: new Date().toISOString() }] }, maker));
} else {
  skip('manufacturer registerUnits under another enterprise', 'no development key');
  skip('manufacturer recordEvents REPORTED_STOLEN on another robot', 'no development key');
}
await drill('  then: verify of the would-be counterfeit code', { status: 200, code: 'REFUSE NOT_REGISTERED' }, async () => {
  const answer = await post(gatewayUrl, { query: 'query($c: String!) { verify(code: $c) { verdict reasons { code } } }', variables: { c: counterfeit } });
  const verify = answer.body.data?.verify;
  return { ...answer, code: verify ? [verify.verdict, ...verify.reasons.map((r: { code: string }) => r.code)].join(' ') : answer.code };
});
await drill('anonymous recordEvents REPORTED_STOLEN', REFUSED('UNAUTHENTICATED'),
  gql('mutation($e: [LifecycleEventInput!]!) { recordEvents(events: $e) { eventId } }', { e: [{ eventId: `drill-${randomUUID()}`, unit: cleanUnit, type: 'REPORTED_STOLEN', occurredAt: new Date().toISOString() }] }));
const recalls = await post(gatewayUrl, { query: `{ productModel(code: "${victimModel}") { recalls { code closedAt } } }` });
const campaign = (recalls.body.data?.productModel?.recalls ?? []).find((r: { closedAt: unknown }) => r.closedAt === null)?.code ?? `${victimModel}R0001`;
for (const [who, headers, code] of [['anonymous', {}, 'UNAUTHENTICATED'], ['manufacturer', maker, 'FORBIDDEN'], ['customs', customs, 'FORBIDDEN']] as const) {
  if (!headers) {
    skip(`${who} setEnterpriseStatus / openRecall / closeRecall`, 'no development key');
    continue;
  }
  await drill(`${who} setEnterpriseStatus REVOKED`, REFUSED(code), gql(`mutation { setEnterpriseStatus(code: "${victimEnterprise}", status: REVOKED, reason: "drill") { status } }`, undefined, headers));
  await drill(`${who} openRecall`, REFUSED(code), gql(`mutation { openRecall(input: { model: "${victimModel}", defect: "drill", remedy: "none" }) { code } }`, undefined, headers));
  await drill(`${who} closeRecall ${campaign}`, REFUSED(code), gql(`mutation { closeRecall(code: "${campaign}") { closedAt } }`, undefined, headers));
}

// Straight to a subgraph port.
const write = JSON.stringify({ query: `mutation { registerEnterprise(input: { code: "${ATTACKER}", name: "Backdoor Robotics" }) { code } }` });
if (nodeUrl) {
  await drill('node: unsigned write', REFUSED('UNAUTHENTICATED', 401), () => post(nodeUrl, write));
  await drill('node: write with a forged signature', REFUSED('UNAUTHENTICATED', 401), () => post(nodeUrl, write, signed(write, { key: randomBytes(32) })));
  await drill('node: write with spoofed x-registry-caller', REFUSED('UNAUTHENTICATED', 401),
    () => post(nodeUrl, write, { [SIGNATURE_HEADERS.caller]: encodeCaller({ subject: 'mallory', role: 'authority' }) }));
  if (secret) {
    // Signed for an anonymous caller: the first delivery is refused by access control, its replay by the nonce.
    const captured = signed(write);
    await post(nodeUrl, write, captured);
    await drill('node: replayed signed write', REFUSED('UNAUTHENTICATED', 401), () => post(nodeUrl, write, captured));
    await drill('node: stale signed write (31 s old)', REFUSED('UNAUTHENTICATED', 401), () => post(nodeUrl, write, signed(write, { at: Date.now() - 31_000 })));
    const representations = Array.from({ length: 20_000 }, (_, i) => ({ __typename: 'Unit', code: `${victimModel}${String(i + 1).padStart(17, '0')}` }));
    const entities = JSON.stringify({ query: 'query($r: [_Any!]!) { _entities(representations: $r) { __typename } }', variables: { r: representations } });
    await drill('node: _entities with 20,000 representations (signed)', REFUSED('LIMIT_EXCEEDED', 400), () => post(nodeUrl, entities, signed(entities)));
  } else {
    for (const attack of ['replayed signed write', 'stale signed write', '_entities with 20,000 representations']) skip(`node: ${attack}`, 'no signing secret');
  }
} else {
  skip('straight to a subgraph port', 'no --node-url');
}
const spoofBody = JSON.stringify({ query: `mutation { setEnterpriseStatus(code: "${victimEnterprise}", status: SUSPENDED, reason: "drill") { status } }` });
const spoofed = { ...signed(spoofBody, { key: secret ?? randomBytes(32) }), [SIGNATURE_HEADERS.caller]: encodeCaller({ subject: 'mallory', role: 'authority' }) };
await drill('gateway: x-registry-* claim headers, anonymous write', REFUSED('UNAUTHENTICATED'), () => post(gatewayUrl, spoofBody, spoofed));

// Priced before anything is fetched.
const nested = '{ registries { enterprises(first: 100) { edges { node { display productModels(first: 100) { edges { node { display category units(first: 100) { edges { node { code display serial registeredAt state } } } } } } } } } } }';
await drill(`${Buffer.byteLength(nested)}-byte query, 3 nested connections of first: 100`, REFUSED('LIMIT_EXCEEDED', 400), gql(nested));
await drill('2,000 aliases of unit(code)', REFUSED('TOO_MANY_TOKENS', 400),
  gql(`{ ${Array.from({ length: 2_000 }, (_, i) => `u${i}: unit(code: "${cleanUnit}") { code }`).join(' ')} }`));
await drill('20 aliases of verifyMany, 1,000 codes in one variable', REFUSED('LIMIT_EXCEEDED', 400),
  gql(`query($c: [String!]!) { ${Array.from({ length: 20 }, (_, i) => `v${i}: verifyMany(codes: $c) { verdict }`).join(' ')} }`, { c: Array.from({ length: 1_000 }, (_, i) => `${victimModel}${String(i + 1).padStart(17, '0')}`) }));

// Credentials.
const now = Math.floor(Date.now() / 1000);
const outsider = (await generateKeyPair('EdDSA')).privateKey;
const claims = { sub: 'mallory', role: 'authority', iss: issuer, aud: audience, exp: now + 600 };
const kid = privateJwk?.kid ?? 'robot-registry-dev-00000000';
const jwt = async (extra: object, header: object = {}, key?: Awaited<ReturnType<typeof importJWK>>) =>
  new SignJWT({ ...claims, ...extra }).setProtectedHeader({ alg: 'EdDSA', kid, ...header }).sign(key ?? (privateJwk ? await importJWK(privateJwk, privateJwk.alg) : outsider));
const tokenWrite = `mutation { setEnterpriseStatus(code: "${victimEnterprise}", status: REVOKED, reason: "drill") { status } }`;
const tokens: [string, () => Promise<string>][] = [
  ['forged token (another key, same kid)', () => jwt({}, {}, outsider)],
  ['alg:none token', async () => new UnsecuredJWT(claims).encode()],
  ['unknown-kid token', () => jwt({}, { kid: 'drill-unknown' })],
];
if (privateJwk) tokens.push(['expired token', () => jwt({ exp: now - 120 })], ['wrong-audience token', () => jwt({ aud: 'another-registry' })]);
else skip('expired / wrong-audience token', 'no development key');
for (const [attack, token] of tokens) {
  const value = await token();
  await drill(attack, REFUSED('UNAUTHENTICATED', 401), gql(tokenWrite, undefined, { authorization: `Bearer ${value}` }));
}

// Malformed input.
await drill('wrong variable type (count: "many")', REFUSED('BAD_USER_INPUT', 400),
  gql('mutation($m: ID!, $n: Int) { registerUnits(input: { model: $m, count: $n }) { code } }', { m: victimModel, n: 'many' }, maker ?? {}));
await drill('wrong variable type (codes: 5)', REFUSED('BAD_USER_INPUT', 400), gql('query($c: [String!]!) { verifyMany(codes: $c) { verdict } }', { c: 5 }));
await drill('NUL byte in a name', REFUSED('BAD_USER_INPUT', 400),
  gql('mutation($i: RegisterProductModelInput!) { registerProductModel(input: $i) { code } }', { i: { code: `${ATTACKER}000001`, name: 'Null\u0000Model', category: 'humanoid' } }, maker ?? {}));
await drill('control character in a note', REFUSED('BAD_USER_INPUT', 400),
  gql('mutation($e: [LifecycleEventInput!]!) { recordEvents(events: $e) { eventId } }', { e: [{ eventId: `drill-${randomUUID()}`, unit: cleanUnit, type: 'MAINTAINED', occurredAt: new Date().toISOString(), note: 'oil\u0007change' }] }, maker ?? {}));
await drill('oversized body (3 MiB)', REFUSED('PAYLOAD_TOO_LARGE', 413), () => post(gatewayUrl, JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(3 * 1024 * 1024) } })));

// Last: the flood spends its caller's whole budget (a token's own, or this address's when anonymous).
const flood = `mutation { registerUnits(input: { model: "${victimModel}", count: 1000 }) { code } }`;
await drill(`registerUnits(count: 1000) in a loop as ${flooder ? 'a manufacturer' : 'anonymous'}`, REFUSED('RATE_LIMITED', 429), async () => {
  let calls = 0;
  let answer: Answer;
  do {
    answer = await post(gatewayUrl, { query: flood }, flooder ?? {});
    calls++;
  } while (answer.status !== 429 && calls < 200);
  // The row's milliseconds are the refused call's; its code says how many calls it took.
  const retry = answer.headers.get('retry-after');
  return { ...answer, code: `${answer.code} after ${calls} calls${retry ? `, Retry-After ${retry}` : ''}` };
});
// The loop's code carries its call count; its row is judged on the status and the code's first word.
const last = rows.at(-1)!;
last.ok = last.status === 429 && last.code.startsWith('RATE_LIMITED') && last.verify === 'ADMIT';

const countsAfter = await registryCounts();
const ready = await fetch(gatewayUrl.replace(/\/graphql$/, '/health/ready')).then((r) => r.status).catch(() => 0);

// --- the table ----------------------------------------------------------------------------------

const header = ['attack', 'HTTP', 'error code', 'ms', 'verify meanwhile', ''];
const table = rows.map((r) => [r.attack, String(r.status), r.code, String(r.ms), r.verify, r.code.startsWith('skipped') ? '' : r.ok ? 'ok' : 'UNEXPECTED']);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => (i === 1 || i === 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const row of table) console.log(line(row));
console.log(`\nclean unit verified meanwhile: ${cleanUnit}`);
console.log(`registry before: ${countsBefore}`);
console.log(`registry after:  ${countsAfter}${countsAfter === countsBefore ? ' (unchanged)' : ' (CHANGED)'}`);
console.log(`gateway /health/ready after the drill: ${ready}`);
const failed = rows.filter((r) => !r.ok);
console.log(failed.length ? `${failed.length} unexpected answer(s)` : 'every attack refused as expected; the legitimate verify answered ADMIT throughout');
process.exit(failed.length || ready !== 200 || countsAfter !== countsBefore ? 1 : 0);
