import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, startGateway, type RunningGateway } from '../gateway/gateway-server.js';
import { ApiKeyStore } from '../gateway/identity/api-key-store.js';
import { createAuthenticator } from '../gateway/identity/authenticate.js';
import { jwksFileKeySet } from '../gateway/identity/jwks-file-key-set.js';
import { createJwtVerifier } from '../gateway/identity/jwt-verifier.js';
import { identityFromEnv, IdentityConfigError } from '../gateway/identity/identity-from-env.js';
import { startGraphQLServer, type RunningServer } from '../lib/server/http-server.js';
import type { Caller, RequestContext } from '../lib/server/request-context.js';
import { apiKeyCommand } from '../scripts/api-key.js';
import { tokenCommand } from '../scripts/token.js';

const ISSUER = 'https://idp.test';
const AUDIENCE = 'robot-registry-test';
const QUERY = '{ registries { country } }';
const UNREACHABLE = 'http://127.0.0.1:9/graphql';
// The gateway answers `registries` itself, so no registry node is needed to see who called.
const DIRECTORY = {
  registries: [{ name: 'home', countries: ['CN'], home: true, subgraphs: { enterprises: UNREACHABLE, 'product-models': UNREACHABLE, units: UNREACHABLE, lifecycle: UNREACHABLE } }],
};
const STORE = { checkConformance: false, log: () => undefined };

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function signingKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

const inOneHour = () => Math.floor(Date.now() / 1000) + 3600;

function sign(key: SigningKey, claims: Record<string, unknown>, header: { kid?: string } = {}): Promise<string> {
  return new SignJWT({ iss: ISSUER, aud: AUDIENCE, exp: inOneHour(), ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: key.kid, ...header })
    .sign(key.privateKey);
}

async function post(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query: QUERY }) });
  return { status: response.status, body: (await response.json()) as { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] } };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('identity at the gateway', () => {
  let dir: string;
  let jwksFile: string;
  let apiKeysFile: string;
  let k1: SigningKey;
  let k2: SigningKey;
  let outsider: SigningKey;
  let reads = 0;
  let clock = Date.now();
  /** What each executed request's context carried: the observable for `ctx.caller`. */
  const seen: (Caller | null)[] = [];
  let server: RunningServer;
  let gateway: RunningGateway;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'identity-'));
    jwksFile = join(dir, 'jwks.json');
    apiKeysFile = join(dir, 'api-keys.json');
    [k1, k2, outsider] = await Promise.all([signingKey('k1'), signingKey('k2'), signingKey('k1')]);
    writeFileSync(jwksFile, JSON.stringify({ keys: [k1.publicJwk] }));
    const keySet = jwksFileKeySet(jwksFile, {
      cooldownMs: 30_000,
      now: () => clock,
      read: (path) => {
        reads++;
        return readFile(path, 'utf8');
      },
    });
    await keySet.load();
    const identity = {
      authenticate: createAuthenticator({ jwt: createJwtVerifier({ keys: keySet.getKey, issuer: ISSUER, audience: AUDIENCE }), apiKeys: new ApiKeyStore(apiKeysFile) }),
      description: 'test',
    };
    // The real gateway schema on the real HTTP server, with a context hook that records the caller.
    const { apollo } = await createGateway({ directory: DIRECTORY, store: STORE });
    server = await startGraphQLServer({
      apollo,
      authenticate: identity.authenticate,
      context: async (request: RequestContext) => {
        seen.push(request.caller);
        return request;
      },
      ready: async () => undefined,
    });
    gateway = await startGateway({ directory: DIRECTORY, store: STORE, identity });
  });

  afterAll(async () => {
    await server?.stop();
    await gateway?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sets the caller from a valid token, for each role', async () => {
    const cases: [Record<string, unknown>, Caller][] = [
      [{ sub: 'ministry-1', role: 'authority' }, { subject: 'ministry-1', role: 'authority' }],
      [{ sub: 'maker-1', role: 'manufacturer', enterprise: 'CNAAAA' }, { subject: 'maker-1', role: 'manufacturer', enterprise: 'CNAAAA' }],
      [{ sub: 'officer-9', role: 'customs', country: 'DE' }, { subject: 'officer-9', role: 'customs', country: 'DE' }],
      [{ sub: 'fr-registry', role: 'partner', country: 'FR' }, { subject: 'fr-registry', role: 'partner', country: 'FR' }],
      [{ sub: 'analyst-3', role: 'analyst' }, { subject: 'analyst-3', role: 'analyst' }],
      [{ sub: 'someone' }, { subject: 'someone', role: null }],
    ];
    for (const [claims, caller] of cases) {
      const before = seen.length;
      const { status, body } = await post(server.url, bearer(await sign(k1, claims)));
      expect(status).toBe(200);
      expect(body).toEqual({ data: { registries: [{ country: 'CN' }] } });
      expect(seen.slice(before)).toEqual([caller]);
    }
    const before = seen.length;
    expect((await post(server.url)).status).toBe(200);
    expect(seen.slice(before)).toEqual([null]);
  });

  it('refuses bad tokens with 401 and the reason, and executes nothing', async () => {
    const good = await sign(k1, { sub: 'x', role: 'analyst' });
    const [header, , signature] = good.split('.');
    const tampered = `${header}.${Buffer.from(JSON.stringify({ iss: ISSUER, aud: AUDIENCE, exp: inOneHour(), sub: 'x', role: 'authority' })).toString('base64url')}.${signature}`;
    const hs256 = await new SignJWT({ iss: ISSUER, aud: AUDIENCE, exp: inOneHour(), sub: 'x' }).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).sign(new Uint8Array(32));
    const cases: [string, Record<string, string>, string][] = [
      ['forged signature', bearer(await sign(outsider, { sub: 'x', role: 'authority' })), 'signature does not verify'],
      ['tampered payload', bearer(tampered), 'signature does not verify'],
      ['expired', bearer(await sign(k1, { sub: 'x', role: 'analyst', exp: Math.floor(Date.now() / 1000) - 120 })), 'expired at'],
      ['alg none', bearer(new UnsecuredJWT({ iss: ISSUER, aud: AUDIENCE, exp: inOneHour(), sub: 'x', role: 'authority' }).encode()), 'algorithm "none" is not accepted'],
      ['shared-secret algorithm', bearer(hs256), 'algorithm "HS256" is not accepted'],
      ['wrong audience', bearer(await sign(k1, { sub: 'x', role: 'analyst', aud: 'someone-else' })), 'wrong audience "someone-else"'],
      ['wrong issuer', bearer(await sign(k1, { sub: 'x', role: 'analyst', iss: 'https://evil.test' })), 'wrong issuer "https://evil.test"'],
      ['unknown kid', bearer(await sign(k1, { sub: 'x', role: 'analyst' }, { kid: 'nobody' })), 'unknown key id (kid) "nobody"'],
      ['manufacturer without enterprise', bearer(await sign(k1, { sub: 'x', role: 'manufacturer' })), 'role manufacturer needs an "enterprise" claim'],
      ['manufacturer with a bad enterprise', bearer(await sign(k1, { sub: 'x', role: 'manufacturer', enterprise: 'cnaa' })), '"enterprise" claim "cnaa" is not 6 characters'],
      ['customs without country', bearer(await sign(k1, { sub: 'x', role: 'customs' })), 'role customs needs a "country" claim'],
      ['partner with a bad country', bearer(await sign(k1, { sub: 'x', role: 'partner', country: 'DEU' })), '"country" claim "DEU" is not 2 characters'],
      ['unknown role', bearer(await sign(k1, { sub: 'x', role: 'admin' })), 'unknown role "admin"'],
      ['no subject', bearer(await sign(k1, { role: 'analyst' })), 'no "sub" claim'],
      ['no expiry', bearer(await new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: 'x' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(k1.privateKey)), 'no "exp" claim'],
      ['not a JWT', bearer('not.a.jwt'), 'malformed token'],
      ['another scheme', { authorization: 'Basic dXNlcjpwYXNz' }, 'unsupported Authorization scheme "Basic"'],
      ['empty bearer', { authorization: 'Bearer' }, 'no credential'],
    ];
    clock += 30_000; // past the cooldown, so the unknown kid above may re-read the file as it would in service
    const before = seen.length;
    for (const [name, headers, reason] of cases) {
      const { status, body } = await post(server.url, headers);
      expect({ name, status, code: body.errors?.[0]?.extensions?.code, data: body.data }).toEqual({ name, status: 401, code: 'UNAUTHENTICATED', data: undefined });
      expect(body.errors![0]!.message, name).toContain(reason);
    }
    expect(seen.length - before).toBe(0);
  });

  it('answers through startGateway({ identity }): 401 for a bad token, data for a good one, anonymous without one', async () => {
    const refused = await post(gateway.url, bearer(await sign(outsider, { sub: 'x', role: 'authority' })));
    expect(refused.status).toBe(401);
    expect(refused.body.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    expect(await post(gateway.url, bearer(await sign(k1, { sub: 'x', role: 'analyst' })))).toEqual({ status: 200, body: { data: { registries: [{ country: 'CN' }] } } });
    expect((await post(gateway.url)).status).toBe(200);
  });

  it('accepts a key added to the JWKS file after exactly one re-read', async () => {
    clock += 30_000;
    writeFileSync(jwksFile, JSON.stringify({ keys: [k1.publicJwk, k2.publicJwk] }));
    const before = reads;
    const first = await post(server.url, bearer(await sign(k2, { sub: 'rotated', role: 'analyst' })));
    expect(first.status).toBe(200);
    expect(reads - before).toBe(1);
    const again = await post(server.url, bearer(await sign(k2, { sub: 'rotated', role: 'analyst' })));
    expect(again.status).toBe(200);
    expect(reads - before).toBe(1);
  });

  it('re-reads the JWKS file at most once per cooldown, however many unknown kids arrive', async () => {
    clock += 30_000;
    const before = reads;
    const flood = await Promise.all(Array.from({ length: 20 }, async (_, i) => post(server.url, bearer(await sign(k1, { sub: 'x' }, { kid: `made-up-${i}` })))));
    for (let i = 0; i < 20; i++) await post(server.url, bearer(await sign(k1, { sub: 'x' }, { kid: `later-${i}` })));
    expect(flood.every((r) => r.status === 401)).toBe(true);
    expect(reads - before).toBe(1);
    clock += 30_000; // the next cooldown allows one more
    await post(server.url, bearer(await sign(k1, { sub: 'x' }, { kid: 'next-window' })));
    expect(reads - before).toBe(2);
  });

  it('accepts API keys, refuses a wrong secret or an unknown id, and stores only a hash', async () => {
    const env = { API_KEYS_FILE: apiKeysFile };
    const key = (await apiKeyCommand(['--role', 'customs', '--country', 'DE', '--name', 'DE customs post 7'], env)).at(-1)!;
    const [, id, secret] = /^rrk_([0-9a-f]{16})_(.{43})$/.exec(key)!;
    const before = seen.length;
    expect((await post(server.url, { authorization: `ApiKey ${key}` })).status).toBe(200);
    expect((await post(server.url, { 'x-api-key': key })).status).toBe(200);
    expect(seen.slice(before)).toEqual([
      { subject: 'DE customs post 7', role: 'customs', country: 'DE' },
      { subject: 'DE customs post 7', role: 'customs', country: 'DE' },
    ]);

    const otherSecret = `rrk_${id}_${'A'.repeat(43)}`;
    const wrong = await post(server.url, { 'x-api-key': otherSecret });
    expect([wrong.status, wrong.body.errors![0]!.extensions!.code, wrong.body.errors![0]!.message]).toEqual([401, 'UNAUTHENTICATED', `API key refused: wrong secret for key rrk_${id}`]);
    const unknown = await post(server.url, { authorization: `ApiKey rrk_0123456789abcdef_${secret}` });
    expect(unknown.status).toBe(401);
    expect(unknown.body.errors![0]!.message).toContain('no key with id rrk_0123456789abcdef');
    const malformed = await post(server.url, { 'x-api-key': 'hunter2' });
    expect(malformed.body.errors![0]!.message).toContain('API key refused: malformed');

    const stored = readFileSync(apiKeysFile, 'utf8');
    expect(stored).not.toContain(secret!);
    expect(stored).not.toContain(key);
    expect(JSON.parse(stored).keys).toEqual([expect.objectContaining({ id, name: 'DE customs post 7', role: 'customs', country: 'DE', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) })]);
  });

  it('picks up a key created or revoked while the gateway runs, on the next request', async () => {
    const env = { API_KEYS_FILE: apiKeysFile };
    const key = (await apiKeyCommand(['--role', 'manufacturer', '--enterprise', 'CNAAAA', '--name', 'maker line 2'], env)).at(-1)!;
    const before = seen.length;
    expect((await post(server.url, { 'x-api-key': key })).status).toBe(200);
    expect(seen.slice(before)).toEqual([{ subject: 'maker line 2', role: 'manufacturer', enterprise: 'CNAAAA' }]);
    await apiKeyCommand(['--revoke', key.slice(0, 20)], env);
    const revoked = await post(server.url, { 'x-api-key': key });
    expect(revoked.status).toBe(401);
    expect(revoked.body.errors![0]!.message).toContain('never created, or revoked');
  });

  it('refuses to create an API key whose role lacks its claim', async () => {
    await expect(apiKeyCommand(['--role', 'customs', '--name', 'no country'], { API_KEYS_FILE: apiKeysFile })).rejects.toThrow('role customs needs a "country" claim');
  });
});

describe('development key and token command', () => {
  let dataDir: string;
  let gateway: RunningGateway;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'identity-dev-'));
    gateway = await startGateway({ directory: DIRECTORY, store: STORE, identity: await identityFromEnv({ dataDir, env: {} }) });
  });
  afterAll(async () => {
    await gateway?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints, as its last line, a token the gateway accepts', async () => {
    const lines = await tokenCommand(['--role', 'manufacturer', '--enterprise', 'CNAAAA', '--subject', 'maker-7', '--ttl', '10m'], { DATA_DIR: dataDir });
    expect(await post(gateway.url, bearer(lines.at(-1)!))).toEqual({ status: 200, body: { data: { registries: [{ country: 'CN' }] } } });
  });

  it('refuses to print a token for a role without its claim', async () => {
    await expect(tokenCommand(['--role', 'customs'], { DATA_DIR: dataDir })).rejects.toThrow('role customs needs a "country" claim');
  });

  it('refuses to start in production without JWKS and issuer settings, or with the development key', async () => {
    const missing = identityFromEnv({ dataDir, env: { NODE_ENV: 'production' } });
    await expect(missing).rejects.toThrow(IdentityConfigError);
    await expect(identityFromEnv({ dataDir, env: { NODE_ENV: 'production' } })).rejects.toThrow('NODE_ENV=production needs JWKS_FILE or JWKS_URL, JWT_ISSUER, JWT_AUDIENCE');
    const devJwks = join(dataDir, 'dev-keys', 'jwks.json');
    await expect(identityFromEnv({ dataDir, env: { NODE_ENV: 'production', JWKS_FILE: devJwks, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE } })).rejects.toThrow('it is the development key');
    // A copy elsewhere is still recognised by its key id.
    const copy = join(dataDir, 'copied-jwks.json');
    writeFileSync(copy, readFileSync(devJwks));
    await expect(identityFromEnv({ dataDir, env: { NODE_ENV: 'production', JWKS_FILE: copy, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE } })).rejects.toThrow('holds a development key');
  });
});

describe('keys from a JWKS URL', () => {
  let jwksServer: Server;
  let fetches = 0;
  let gateway: RunningGateway;
  let key: SigningKey;

  beforeAll(async () => {
    key = await signingKey('url-key');
    jwksServer = createServer((_req, res) => {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [key.publicJwk] }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;
    const dataDir = mkdtempSync(join(tmpdir(), 'identity-url-'));
    const identity = await identityFromEnv({ dataDir, env: { JWKS_URL: url, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE } });
    gateway = await startGateway({ directory: DIRECTORY, store: STORE, identity });
  });
  afterAll(async () => {
    await gateway?.stop();
    await new Promise((resolve) => jwksServer.close(resolve));
  });

  it('accepts its tokens and fetches the set once, not once per request or per unknown kid', async () => {
    expect((await post(gateway.url, bearer(await sign(key, { sub: 'u', role: 'analyst' })))).status).toBe(200);
    for (let i = 0; i < 10; i++) {
      const refused = await post(gateway.url, bearer(await sign(key, { sub: 'u' }, { kid: `unknown-${i}` })));
      expect(refused.status).toBe(401);
    }
    expect((await post(gateway.url, bearer(await sign(key, { sub: 'u', role: 'analyst' })))).status).toBe(200);
    expect(fetches).toBe(1);
  });
});
