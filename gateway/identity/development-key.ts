import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import type { Role } from '../../lib/server/request-context.js';
import { callerFromClaims, isProblem } from './caller-claims.js';

/** Key ids of development keys start with this, so production can recognise and refuse them. */
export const DEVELOPMENT_KID_PREFIX = 'robot-registry-dev-';
export const DEVELOPMENT_ISSUER = 'robot-registry-dev';
export const DEFAULT_AUDIENCE = 'robot-registry';

export interface DevelopmentKey {
  /** The private JWK (with `kid` and `alg`) that scripts/token.ts signs with. */
  privateJwk: JWK;
  /** The public JWKS file the gateway verifies with. */
  jwksFile: string;
}

/** Where the development key lives under a data folder: private.jwk.json and jwks.json. */
export function developmentKeyDir(dataDir: string): string {
  return join(dataDir, 'dev-keys');
}

/**
 * The development signing key (Ed25519), made on first use and kept in the data folder so that tokens
 * printed by `npm run token` keep working across restarts. Never used when NODE_ENV=production.
 */
export async function ensureDevelopmentKey(dataDir: string): Promise<DevelopmentKey> {
  const dir = developmentKeyDir(dataDir);
  const privateFile = join(dir, 'private.jwk.json');
  const jwksFile = join(dir, 'jwks.json');
  if (existsSync(privateFile) && existsSync(jwksFile)) {
    return { privateJwk: JSON.parse(await readFile(privateFile, 'utf8')) as JWK, jwksFile };
  }
  mkdirSync(dir, { recursive: true });
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { extractable: true });
  const kid = DEVELOPMENT_KID_PREFIX + randomBytes(4).toString('hex');
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'EdDSA', use: 'sig' };
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' };
  await writeFile(privateFile, JSON.stringify(privateJwk, null, 2) + '\n', { mode: 0o600 });
  await writeFile(jwksFile, JSON.stringify({ keys: [publicJwk] }, null, 2) + '\n');
  return { privateJwk, jwksFile };
}

export interface TokenRequest {
  subject: string;
  role?: Role;
  enterprise?: string;
  country?: string;
  issuer?: string;
  audience?: string;
  /** Lifetime: "1h", "30m", "7d", "3600s" (default 1h). */
  ttl?: string;
}

/** Signs a token with a private JWK (the development key, or one given by file); claims are checked first. */
export async function signToken(privateJwk: JWK, request: TokenRequest): Promise<string> {
  const checked = callerFromClaims(request);
  if (isProblem(checked)) throw new Error(checked.problem);
  if (!privateJwk.kid || !privateJwk.alg) throw new Error('the private JWK needs "kid" and "alg"');
  const key = await importJWK(privateJwk, privateJwk.alg);
  const claims: Record<string, string> = {};
  if (checked.role) claims.role = checked.role;
  if (checked.enterprise) claims.enterprise = checked.enterprise;
  if (checked.country) claims.country = checked.country;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: privateJwk.alg, kid: privateJwk.kid, typ: 'JWT' })
    .setSubject(checked.subject)
    .setIssuer(request.issuer ?? DEVELOPMENT_ISSUER)
    .setAudience(request.audience ?? DEFAULT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(parseTtl(request.ttl ?? '1h'))
    .sign(key);
}

/** "90s", "30m", "1h", "7d" → the `exp` (seconds since the epoch). */
function parseTtl(ttl: string): number {
  const match = /^(\d+)\s*(s|m|h|d)$/.exec(ttl.trim());
  if (!match || Number(match[1]) <= 0) throw new Error(`--ttl ${JSON.stringify(ttl)}: expected a positive number with s, m, h or d (e.g. 1h)`);
  const seconds = Number(match[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[match[2] as 's' | 'm' | 'h' | 'd'];
  return Math.floor(Date.now() / 1000) + seconds;
}
