import { decodeProtectedHeader, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { HttpRefusal, unauthenticated } from '../../lib/server/http-refusal.js';
import type { Caller } from '../../lib/server/request-context.js';
import { callerFromClaims, isProblem } from './caller-claims.js';
import { looksLikeReceipt, RECEIPT_TYPE } from '../receipts/receipt-format.js';

/** Asymmetric algorithms only: a shared-secret (HS*) or unsigned (`none`) token is refused by name. */
export const JWT_ALGORITHMS = ['EdDSA', 'Ed25519', 'ES256', 'ES384', 'RS256', 'PS256'];

export interface JwtVerifierOptions {
  /** Where keys come from: a JWKS file (jwksFileKeySet) or URL (jose's createRemoteJWKSet). */
  keys: JWTVerifyGetKey;
  issuer: string;
  audience: string;
  /** Allowed clock skew between the issuer and this gateway, in seconds (default 30). */
  clockToleranceSec?: number;
}

export type JwtVerifier = (token: string) => Promise<Caller>;

/**
 * A client sends the same token on every request until it expires, and checking its signature was the
 * largest single cost of a small query in the gateway (15% of its CPU). So a token that verified is
 * remembered, as the exact string, until the earlier of its expiry and a minute from then: a key removed
 * from the set stops its tokens within a minute of the set being re-read. Refusals are never remembered.
 */
const REMEMBER_MS = 60_000;
const REMEMBERED_MAX = 10_000;

/** Verifies a bearer JWT (signature, issuer, audience, expiry) and returns its caller, or throws a 401. */
export function createJwtVerifier(options: JwtVerifierOptions): JwtVerifier {
  const verified = new Map<string, { caller: Caller; until: number }>();
  return async (token) => {
    const now = Date.now();
    const known = verified.get(token);
    if (known && known.until > now) return { ...known.caller }; // a copy: a request may add to its own
    if (known) verified.delete(token);
    const caller = await verify(token, options);
    if (verified.size >= REMEMBERED_MAX) verified.delete(verified.keys().next().value!);
    verified.set(token, { caller: caller.caller, until: Math.min(caller.expiresAt, now + REMEMBER_MS) });
    return caller.caller;
  };
}

async function verify(token: string, options: JwtVerifierOptions): Promise<{ caller: Caller; expiresAt: number }> {
  // A receipt is signed by another key and would fail anyway; say what it is so the mistake is obvious.
  if (looksLikeReceipt(token)) {
    throw unauthenticated(`bearer token refused: it is a verification receipt (typ "${RECEIPT_TYPE}"), not a login token; check it with npm run receipt -- verify`);
  }
  let payload;
  try {
    ({ payload } = await jwtVerify(token, options.keys, {
      issuer: options.issuer,
      audience: options.audience,
      algorithms: JWT_ALGORITHMS,
      requiredClaims: ['exp', 'sub'],
      clockTolerance: options.clockToleranceSec ?? 30,
    }));
  } catch (error) {
    // The key set being unreachable is our failure, not the caller's: 503, so clients retry.
    if (!(error instanceof errors.JOSEError) || error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) {
      throw new HttpRefusal(503, 'IDENTITY_UNAVAILABLE', `cannot verify tokens now: the key set is unavailable (${(error as Error).message})`);
    }
    throw unauthenticated(`bearer token refused: ${reason(error, token, options)}`);
  }
  const caller = callerFromClaims({ subject: payload.sub, role: payload.role, enterprise: payload.enterprise, country: payload.country });
  if (isProblem(caller)) throw unauthenticated(`bearer token refused: ${caller.problem}`);
  // `exp` is required: without the clock tolerance, a remembered token lapses no later than a fresh check would.
  return { caller, expiresAt: Number(payload.exp) * 1000 };
}

/** jose's messages are generic ("unexpected claim value"); a caller needs to know which and why. */
function reason(error: unknown, token: string, options: JwtVerifierOptions): string {
  const header = safeHeader(token);
  if (error instanceof errors.JWTExpired) {
    const exp = Number(error.payload.exp);
    return `expired${Number.isFinite(exp) ? ` at ${new Date(exp * 1000).toISOString()}` : ''}`;
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    const given = JSON.stringify(error.payload[error.claim]);
    if (error.reason === 'missing') return `no "${error.claim}" claim`;
    if (error.claim === 'iss') return `wrong issuer ${given}; expected "${options.issuer}"`;
    if (error.claim === 'aud') return `wrong audience ${given}; expected "${options.audience}"`;
    if (error.claim === 'nbf') return 'not valid yet ("nbf" is in the future)';
    return `"${error.claim}" claim is invalid (${error.message})`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return `algorithm ${JSON.stringify(header?.alg)} is not accepted; accepted: ${JWT_ALGORITHMS.join(', ')}`;
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return header?.kid === undefined ? 'no "kid" in its header matching a known key' : `unknown key id (kid) ${JSON.stringify(header.kid)}`;
  }
  if (error instanceof errors.JWKSMultipleMatchingKeys) return 'its header matches more than one key; add a "kid"';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'signature does not verify (forged or signed by another key)';
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return `malformed token (${error.message})`;
  return `could not be verified (${(error as Error).message})`;
}

function safeHeader(token: string): { alg?: string; kid?: string } | undefined {
  try {
    return decodeProtectedHeader(token);
  } catch {
    return undefined;
  }
}
