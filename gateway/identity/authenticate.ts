import type { IncomingMessage } from 'node:http';
import { unauthenticated } from '../../lib/server/http-refusal.js';
import type { Caller } from '../../lib/server/request-context.js';
import type { ApiKeyStore } from './api-key-store.js';
import type { JwtVerifier } from './jwt-verifier.js';

/** Who is calling, from the request's headers: null without credentials; throws a 401 HttpRefusal for bad ones. */
export type Authenticate = (req: Pick<IncomingMessage, 'headers'>) => Promise<Caller | null>;

export interface AuthenticatorOptions {
  /** Bearer JWTs; without it a bearer token is refused (not ignored, which would hide a misconfiguration). */
  jwt?: JwtVerifier;
  apiKeys?: ApiKeyStore;
}

/** `Authorization: Bearer <JWT>`, `Authorization: ApiKey <key>` or `x-api-key: <key>`; none at all is anonymous. */
export function createAuthenticator(options: AuthenticatorOptions): Authenticate {
  return async ({ headers }) => {
    const authorization = headers.authorization;
    const apiKeyHeader = headers['x-api-key'];
    if (authorization === undefined && apiKeyHeader === undefined) return null;
    if (authorization !== undefined && apiKeyHeader !== undefined) {
      throw unauthenticated('send one credential: either an Authorization header or x-api-key, not both');
    }
    if (apiKeyHeader !== undefined) return apiKey(String(apiKeyHeader));
    const [scheme = '', ...rest] = authorization!.trim().split(/\s+/);
    const credential = rest.join(' ');
    if (!credential) throw unauthenticated(`Authorization header has no credential after ${JSON.stringify(scheme)}; use "Bearer <JWT>" or "ApiKey <key>"`);
    switch (scheme.toLowerCase()) {
      case 'bearer':
        if (!options.jwt) throw unauthenticated('bearer tokens are not accepted here: this gateway has no JWKS configured');
        return options.jwt(credential);
      case 'apikey':
        return apiKey(credential);
      default:
        throw unauthenticated(`unsupported Authorization scheme ${JSON.stringify(scheme)}; use "Bearer <JWT>" or "ApiKey <key>"`);
    }
  };

  function apiKey(key: string): Promise<Caller> {
    if (!options.apiKeys) throw unauthenticated('API keys are not accepted here: this gateway has no API key file');
    return options.apiKeys.authenticate(key);
  }
}
