import { createHash, createHmac, randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Caller } from '../server/request-context.js';

/**
 * Internal requests (gateway -> subgraph, subgraph -> sibling) carry the caller's claims, the request id,
 * a timestamp, a nonce and the body's SHA-256, all covered by an HMAC-SHA256 over one canonical string.
 * A subgraph port reachable from the network is then harmless: without the secret nothing passes.
 */
export const SIGNATURE_HEADERS = {
  caller: 'x-registry-caller',
  requestId: 'x-registry-request-id',
  timestamp: 'x-registry-timestamp',
  nonce: 'x-registry-nonce',
  digest: 'x-registry-content-sha256',
  signature: 'x-registry-signature',
} as const;

/** Bumped if the canonical string ever changes, so old and new signers never verify each other. */
const VERSION = 'v1';

export interface SignedFields {
  method: string;
  /** The URL's query string ("" for a POST to /graphql); the path is left out so proxies may remount. */
  search: string;
  timestamp: string;
  nonce: string;
  requestId: string;
  /** base64url of the caller's claims as JSON (`null` for anonymous). */
  caller: string;
  /** base64url SHA-256 of the exact body bytes. */
  digest: string;
}

export interface RequestToSign {
  body: string | Uint8Array;
  requestId: string;
  caller: Caller | null;
  method?: string;
  search?: string;
}

/** The headers to add to one request. Each call makes a fresh nonce: sign every attempt anew. */
export function signRequest(secret: Buffer, request: RequestToSign, now: number = Date.now()): Record<string, string> {
  const fields: SignedFields = {
    method: (request.method ?? 'POST').toUpperCase(),
    search: request.search ?? '',
    timestamp: String(now),
    // 122 random bits; randomUUID draws from a cached entropy pool, unlike randomBytes on every call.
    nonce: randomUUID(),
    requestId: request.requestId,
    caller: encodeCaller(request.caller),
    digest: bodyDigest(request.body),
  };
  return {
    [SIGNATURE_HEADERS.caller]: fields.caller,
    [SIGNATURE_HEADERS.requestId]: fields.requestId,
    [SIGNATURE_HEADERS.timestamp]: fields.timestamp,
    [SIGNATURE_HEADERS.nonce]: fields.nonce,
    [SIGNATURE_HEADERS.digest]: fields.digest,
    [SIGNATURE_HEADERS.signature]: `${VERSION}=${signatureOf(secret, fields)}`,
  };
}

export function signatureOf(secret: Buffer, fields: SignedFields): string {
  const canonical = [
    `registry-request-${VERSION}`,
    fields.method,
    fields.search,
    fields.timestamp,
    fields.nonce,
    fields.requestId,
    fields.caller,
    fields.digest,
  ].join('\n');
  return createHmac('sha256', secret).update(canonical).digest('hex');
}

export const SIGNATURE_PREFIX = `${VERSION}=`;

export function bodyDigest(body: string | Uint8Array): string {
  return createHash('sha256').update(body).digest('base64url');
}

/** A request's caller is the same object for each of its subgraph calls: encoded once. */
const encodedCallers = new WeakMap<Caller, string>();

export function encodeCaller(caller: Caller | null): string {
  if (caller == null) return ANONYMOUS;
  let encoded = encodedCallers.get(caller);
  if (encoded === undefined) encodedCallers.set(caller, (encoded = Buffer.from(JSON.stringify(caller)).toString('base64url')));
  return encoded;
}

const ANONYMOUS = Buffer.from('null').toString('base64url');

/**
 * Removes every internal header a client sent to the gateway: only the gateway (or a node, for its own
 * calls) may set them, so none may arrive from outside, whatever a later hop would do with them.
 */
export function dropInternalHeaders(headers: IncomingHttpHeaders): void {
  for (const name of Object.keys(headers)) if (name.toLowerCase().startsWith('x-registry-')) delete headers[name];
}
