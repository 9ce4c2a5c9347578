import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JSONWebKeySet, type JWK, type JWTPayload } from 'jose';

/**
 * The receipt's wire format (docs/receipts.md): a compact JWS with short claim names, so that it fits a
 * QR code. The `typ` header marks it as a receipt: the login verifier refuses it by that, and a receipt
 * verifier refuses anything else (a login token included).
 */
export const RECEIPT_TYPE = 'robot-registry-receipt+jwt';
/** Ed25519 (short signatures, the default) or P-256. */
export const RECEIPT_ALGORITHMS = ['EdDSA', 'Ed25519', 'ES256'];

export type ReceiptVerdict = 'ADMIT' | 'REFUSE' | 'UNKNOWN';

/** A reason by its code and references: r = recalls, g = registry country, e = enterprise, m = model, y = country. */
export interface ReceiptReason {
  c: string;
  r?: string[];
  g?: string;
  e?: string;
  m?: string;
  y?: string;
}

/** A registry: c = country segment, n = name. */
export interface ReceiptRegistry {
  c: string;
  n: string;
}

export interface ReceiptClaims extends JWTPayload {
  /** The issuing gateway's public URL. */
  iss: string;
  /** The issuing registry (whose gateway computed the verdict and signed). */
  reg: ReceiptRegistry;
  /** The code: canonical when well-formed, the input as sent when malformed. */
  sub: string;
  /** The canonical code; null when the input is malformed. */
  can: string | null;
  /** The input exactly as sent, when it differs from `sub` (and the gateway knew it unambiguously). */
  in?: string;
  vd: ReceiptVerdict;
  rs: ReceiptReason[];
  /** The registry asked for the facts; null for a malformed code or a country no registry serves. */
  ab: ReceiptRegistry | null;
  iat: number;
  exp: number;
  jti: string;
}

export type ReceiptFailure = 'signature' | 'expired' | 'not-yet-valid' | 'unknown-key' | 'not-a-receipt' | 'wrong-registry';

export type ReceiptCheck =
  | { ok: true; claims: ReceiptClaims; kid: string; alg: string }
  | { ok: false; failure: ReceiptFailure; message: string };

/** A published key may say which registry it signs for (`reg`, a country); the directory sets it in bundles. */
export type ReceiptJwk = JWK & { reg?: string };

/** Whether a compact JWS carries the receipt `typ` (read without verifying anything). */
export function looksLikeReceipt(token: string): boolean {
  try {
    return decodeProtectedHeader(token).typ === RECEIPT_TYPE;
  } catch {
    return false;
  }
}

/**
 * Checks a receipt against a key set: signature, type, time window, shape and, when the key names its
 * registry, that the receipt claims that registry as issuer. Never throws.
 */
export async function verifyReceipt(token: string, jwks: JSONWebKeySet, options: { now?: Date; clockToleranceSec?: number } = {}): Promise<ReceiptCheck> {
  const tolerance = options.clockToleranceSec ?? 60;
  const now = options.now ?? new Date();
  let header;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    return fail('not-a-receipt', 'not a compact JWS (three base64url parts separated by dots)');
  }
  if (header.typ !== RECEIPT_TYPE) return fail('not-a-receipt', `its header typ is ${JSON.stringify(header.typ)}, not "${RECEIPT_TYPE}": not a verification receipt`);
  if (typeof header.kid !== 'string') return fail('not-a-receipt', 'its header has no "kid"');
  // Kids are unique within a registry, not across a bundle of several: with two equal ones, the keys bound
  // to the registry the receipt names (read before verifying, only to choose) are the ones to try.
  const sameKid = (jwks.keys as ReceiptJwk[]).filter((k) => k.kid === header.kid);
  let bound = sameKid;
  if (sameKid.length > 1) {
    const named = claimedRegistry(token);
    bound = sameKid.filter((k) => !k.reg || k.reg === named);
  }
  const keys = bound.length ? bound : sameKid;
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, createLocalJWKSet({ keys }), {
      typ: RECEIPT_TYPE,
      algorithms: RECEIPT_ALGORITHMS,
      requiredClaims: ['iss', 'sub', 'iat', 'exp', 'jti'],
      currentDate: now,
      clockTolerance: tolerance,
    }));
  } catch (error) {
    if (error instanceof errors.JWSSignatureVerificationFailed) return fail('signature', 'signature does not verify: the receipt was altered, or signed by another key');
    if (error instanceof errors.JWTExpired) return fail('expired', `expired at ${isoOf(error.payload.exp)}`);
    if (error instanceof errors.JWKSNoMatchingKey) return fail('unknown-key', `signed with key ${JSON.stringify(header.kid)}, which is not among the keys given`);
    if (error instanceof errors.JWTClaimValidationFailed && error.claim === 'nbf') return fail('not-yet-valid', 'not valid yet ("nbf" is in the future)');
    if (error instanceof errors.JOSEAlgNotAllowed) return fail('not-a-receipt', `algorithm ${JSON.stringify(header.alg)} is not accepted for receipts (${RECEIPT_ALGORITHMS.join(', ')})`);
    return fail('not-a-receipt', `not a valid receipt: ${(error as Error).message}`);
  }
  if (payload.iat! > now.getTime() / 1000 + tolerance) return fail('not-yet-valid', `issued in the future (${isoOf(payload.iat)}): check this machine's clock`);
  const shape = shapeProblem(payload);
  if (shape) return fail('not-a-receipt', `signed, but not a receipt: ${shape}`);
  const claims = payload as ReceiptClaims;
  const key = keys.find((k) => k.reg === claims.reg.c) ?? keys[0];
  if (key?.reg && key.reg !== claims.reg.c) {
    return fail('wrong-registry', `key ${header.kid} belongs to registry ${key.reg}, but the receipt claims to be issued by ${claims.reg.c}`);
  }
  return { ok: true, claims, kid: header.kid, alg: String(header.alg) };
}

/** Plain words for what a receipt attests, one fact a line (the CLI prints it). */
export function describeReceipt(claims: ReceiptClaims, kid: string): string[] {
  const registry = (r: ReceiptRegistry | null) => (r ? `${r.n} (${r.c})` : 'none');
  const lines = [
    `code:      ${claims.can ?? `${claims.sub} (malformed: no canonical form)`}`,
    ...(claims.in !== undefined ? [`as sent:   ${claims.in}`] : []),
    `verdict:   ${claims.vd}`,
    `reasons:   ${claims.rs.length ? claims.rs.map(reasonText).join('; ') : 'none'}`,
    `facts from: ${claims.ab ? registry(claims.ab) : 'no registry (the code is malformed or no registry serves its country)'}`,
    `issued by: ${registry(claims.reg)} at ${claims.iss}`,
    `issued:    ${isoOf(claims.iat)}`,
    `expires:   ${isoOf(claims.exp)}`,
    `receipt:   ${claims.jti}`,
    `key:       ${kid}`,
  ];
  if (claims.vd === 'UNKNOWN') {
    lines.push('NOTE: an UNKNOWN receipt attests only that the facts could not be obtained when it was issued; it says nothing about the robot.');
  }
  return lines;
}

function reasonText(r: ReceiptReason): string {
  const refs = [r.r?.length && `recalls ${r.r.join(', ')}`, r.g && `registry ${r.g}`, r.e && `enterprise ${r.e}`, r.m && `model ${r.m}`, r.y && `country ${r.y}`].filter(Boolean);
  return refs.length ? `${r.c} (${refs.join('; ')})` : r.c;
}

function shapeProblem(p: JWTPayload): string | null {
  const registry = (r: unknown) => typeof r === 'object' && r !== null && typeof (r as ReceiptRegistry).c === 'string' && typeof (r as ReceiptRegistry).n === 'string';
  if (!registry(p.reg)) return '"reg" (the issuing registry) is missing';
  if (!['ADMIT', 'REFUSE', 'UNKNOWN'].includes(p.vd as string)) return '"vd" (the verdict) is missing or unknown';
  if (!Array.isArray(p.rs) || !p.rs.every((r) => typeof (r as ReceiptReason)?.c === 'string')) return '"rs" (the reasons) is missing';
  if (p.ab !== null && !registry(p.ab)) return '"ab" (the registry that answered) is malformed';
  if (p.can !== null && typeof p.can !== 'string') return '"can" (the canonical code) is malformed';
  if (p.in !== undefined && typeof p.in !== 'string') return '"in" (the input as sent) is malformed';
  return null;
}

function claimedRegistry(token: string): unknown {
  try {
    return (decodeJwt(token).reg as { c?: unknown } | undefined)?.c;
  } catch {
    return undefined;
  }
}

function fail(failure: ReceiptFailure, message: string): ReceiptCheck {
  return { ok: false, failure, message };
}

function isoOf(seconds: unknown): string {
  const n = Number(seconds);
  return Number.isFinite(n) ? new Date(n * 1000).toISOString() : String(seconds);
}
