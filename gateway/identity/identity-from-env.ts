import { join, resolve } from 'node:path';
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import { ApiKeyStore } from './api-key-store.js';
import { createAuthenticator, type Authenticate } from './authenticate.js';
import { DEFAULT_AUDIENCE, DEVELOPMENT_ISSUER, DEVELOPMENT_KID_PREFIX, developmentKeyDir, ensureDevelopmentKey } from './development-key.js';
import { jwksFileKeySet } from './jwks-file-key-set.js';
import { createJwtVerifier } from './jwt-verifier.js';

/** What the gateway is given: the authenticate hook, and a line for the start-up banner. */
export interface Identity {
  authenticate: Authenticate;
  /** "JWT (issuer ..., keys from ...) + API keys from ..." */
  description: string;
}

/** A start-up configuration the gateway must not run with; the message says what to set. */
export class IdentityConfigError extends Error {}

export interface IdentityEnvOptions {
  /** The data folder: the development key goes in <dataDir>/dev-keys, API keys default to <dataDir>/api-keys.json. */
  dataDir: string;
  env?: NodeJS.ProcessEnv;
}

const COOLDOWN_MS = 30_000;
const CACHE_MAX_AGE_MS = 600_000;

/**
 * Builds identity from JWKS_FILE or JWKS_URL, JWT_ISSUER, JWT_AUDIENCE and API_KEYS_FILE. Without any
 * JWKS setting, development uses (and creates) the development key; production refuses to start.
 */
export async function identityFromEnv({ dataDir, env = process.env }: IdentityEnvOptions): Promise<Identity> {
  const production = env.NODE_ENV === 'production';
  const { JWKS_FILE: jwksFile, JWKS_URL: jwksUrl } = env;
  if (jwksFile && jwksUrl) throw new IdentityConfigError('set JWKS_FILE or JWKS_URL, not both');
  if (production) {
    const missing = [!jwksFile && !jwksUrl && 'JWKS_FILE or JWKS_URL', !env.JWT_ISSUER && 'JWT_ISSUER', !env.JWT_AUDIENCE && 'JWT_AUDIENCE'].filter(Boolean);
    if (missing.length) {
      throw new IdentityConfigError(`NODE_ENV=production needs ${missing.join(', ')}: the development signing key and its defaults are for development only`);
    }
    if (jwksFile && resolve(jwksFile).startsWith(resolve(developmentKeyDir(dataDir)))) {
      throw new IdentityConfigError(`NODE_ENV=production refuses JWKS_FILE=${jwksFile}: it is the development key; point it at your identity provider's keys`);
    }
  }

  let keys: JWTVerifyGetKey;
  let source: string;
  if (jwksUrl) {
    let url: URL;
    try {
      url = new URL(jwksUrl);
    } catch {
      throw new IdentityConfigError(`JWKS_URL ${JSON.stringify(jwksUrl)} is not a URL`);
    }
    // jose refetches on an unknown kid at most once per cooldown, and caches the set for cacheMaxAge.
    keys = createRemoteJWKSet(url, { cooldownDuration: COOLDOWN_MS, cacheMaxAge: CACHE_MAX_AGE_MS, timeoutDuration: 5_000 });
    source = jwksUrl;
  } else {
    const file = jwksFile ?? (await ensureDevelopmentKey(dataDir)).jwksFile;
    const keySet = jwksFileKeySet(file, { cooldownMs: COOLDOWN_MS, maxAgeMs: CACHE_MAX_AGE_MS });
    const set = await keySet.load().catch((error: Error) => {
      throw new IdentityConfigError(`cannot read the JWKS file: ${error.message}`);
    });
    if (production && set.keys.some((k) => k.kid?.startsWith(DEVELOPMENT_KID_PREFIX))) {
      throw new IdentityConfigError(`NODE_ENV=production refuses JWKS_FILE=${file}: it holds a development key (kid ${DEVELOPMENT_KID_PREFIX}...)`);
    }
    keys = keySet.getKey;
    source = jwksFile ? file : `${file} (development key; npm run token prints tokens for it)`;
  }
  const issuer = env.JWT_ISSUER ?? DEVELOPMENT_ISSUER;
  const audience = env.JWT_AUDIENCE ?? DEFAULT_AUDIENCE;

  const apiKeyFile = env.API_KEYS_FILE ?? join(dataDir, 'api-keys.json');
  const apiKeys = new ApiKeyStore(apiKeyFile);
  await apiKeys.load().catch((error: Error) => {
    throw new IdentityConfigError(`cannot read the API key file: ${error.message}`);
  });
  return {
    authenticate: createAuthenticator({ jwt: createJwtVerifier({ keys, issuer, audience }), apiKeys }),
    description: `bearer JWT (issuer ${issuer}, audience ${audience}, keys from ${source}) or API key (${apiKeyFile})`,
  };
}
