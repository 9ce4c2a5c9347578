import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { RequestVerdict } from '../server/http-server.js';
import { ROLES, type Caller } from '../server/request-context.js';
import type { NonceStore } from './nonce-store.js';
import { bodyDigest, SIGNATURE_HEADERS, SIGNATURE_PREFIX, signatureOf, type SignedFields } from './request-signer.js';

export interface VerifierOptions {
  secret: Buffer;
  /** Share one across all subgraphs of a node (and their replicas): a nonce is good once per node. */
  nonces: NonceStore;
  /** A request older than this is refused (and its nonce need be remembered only this long). */
  maxAgeMs?: number;
  /** Clock skew tolerated for a timestamp ahead of ours. */
  maxFutureMs?: number;
  now?: () => number;
}

export const MAX_REQUEST_AGE_MS = 30_000;
export const MAX_CLOCK_SKEW_MS = 5_000;

const NONCE = /^[A-Za-z0-9_-]{16,64}$/;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const DIGEST = /^[A-Za-z0-9_-]{43}$/;
const BASE64URL = /^[A-Za-z0-9_-]{1,4096}$/;
const TIMESTAMP = /^\d{1,15}$/;

/**
 * Checks a request's signature headers against its exact body bytes, before anything parses the body.
 * Every refusal is a 401 naming what is wrong; a failing nonce store is a 503 (nothing was checked).
 */
export function requestVerifier(options: VerifierOptions): (req: IncomingMessage, body: Buffer) => Promise<RequestVerdict> {
  const maxAge = options.maxAgeMs ?? MAX_REQUEST_AGE_MS;
  const maxFuture = options.maxFutureMs ?? MAX_CLOCK_SKEW_MS;
  const now = options.now ?? Date.now;
  return async (req, body) => {
    const header = (name: string) => {
      const value = req.headers[name];
      return typeof value === 'string' ? value : undefined;
    };
    const signature = header(SIGNATURE_HEADERS.signature);
    if (!signature) return refuse('request signature missing');
    const fields = {
      caller: header(SIGNATURE_HEADERS.caller),
      requestId: header(SIGNATURE_HEADERS.requestId),
      timestamp: header(SIGNATURE_HEADERS.timestamp),
      nonce: header(SIGNATURE_HEADERS.nonce),
      digest: header(SIGNATURE_HEADERS.digest),
    };
    const checks: [keyof typeof fields, RegExp][] = [
      ['caller', BASE64URL],
      ['requestId', REQUEST_ID],
      ['timestamp', TIMESTAMP],
      ['nonce', NONCE],
      ['digest', DIGEST],
    ];
    for (const [key, pattern] of checks) {
      const value = fields[key];
      if (value === undefined) return refuse(`request signature incomplete: header ${SIGNATURE_HEADERS[key]} missing`);
      if (!pattern.test(value)) return refuse(`request signature incomplete: header ${SIGNATURE_HEADERS[key]} malformed`);
    }
    const signed = fields as Record<keyof typeof fields, string>;
    const url = new URL(req.url ?? '/', 'http://localhost');
    const expected = signatureOf(options.secret, {
      method: (req.method ?? 'GET').toUpperCase(),
      search: url.search,
      ...signed,
    } satisfies SignedFields);
    if (!signature.startsWith(SIGNATURE_PREFIX) || !equalText(signature.slice(SIGNATURE_PREFIX.length), expected)) {
      return refuse('request signature invalid');
    }
    // The signature covers the digest header; this ties the digest to the bytes that actually arrived.
    if (!equalText(bodyDigest(body), signed.digest)) return refuse('request body does not match its signed digest');
    const age = now() - Number(signed.timestamp);
    if (age > maxAge) return refuse(`request older than ${maxAge / 1000} s`);
    if (age < -maxFuture) return refuse(`request timestamp more than ${maxFuture / 1000} s in the future`);
    const caller = decodeCaller(signed.caller);
    if (caller === undefined) return refuse('request signature carries malformed caller claims');
    let fresh: boolean;
    try {
      // Long enough to outlive every moment at which this timestamp is still accepted.
      fresh = await options.nonces.claim(signed.nonce, maxAge + maxFuture);
    } catch {
      return { ok: false, status: 503, code: 'REGISTRY_UNAVAILABLE', message: 'replay check unavailable; nothing was executed' };
    }
    if (!fresh) return refuse('nonce replayed');
    return { ok: true, requestId: signed.requestId, caller };
  };
}

function refuse(message: string): RequestVerdict {
  return { ok: false, status: 401, code: 'UNAUTHENTICATED', message };
}

function equalText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** The claims as signed, or undefined when they are not a Caller (or null for anonymous). */
function decodeCaller(encoded: string): Caller | null | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) return undefined;
  const { subject, role, enterprise, country } = value as Record<string, unknown>;
  if (typeof subject !== 'string' || !subject) return undefined;
  if (role !== null && !(ROLES as readonly unknown[]).includes(role)) return undefined;
  if (enterprise !== undefined && typeof enterprise !== 'string') return undefined;
  if (country !== undefined && typeof country !== 'string') return undefined;
  return { subject, role: role as Caller['role'], ...(enterprise !== undefined ? { enterprise } : {}), ...(country !== undefined ? { country } : {}) };
}
