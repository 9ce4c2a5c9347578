import { randomBytes } from 'node:crypto';
import { SignJWT, type JSONWebKeySet } from 'jose';
import { registryError } from '../../lib/errors.js';
import type { Reason, Verdict } from '../verdict/verdict.js';
import { RECEIPT_TYPE, type ReceiptClaims, type ReceiptReason, type ReceiptRegistry } from './receipt-format.js';
import { DEFAULT_RECEIPT_TTL_SECONDS, publicJwks, type ReceiptKeyRing } from './receipt-keys.js';

/** What a receipt attests: one verification as the directory subgraph judged it. */
export interface ReceiptSubject {
  /** The entity key: canonical when well-formed, the input when malformed. */
  code: string;
  input?: string;
  canonical: string | null;
  verdict: Verdict;
  reasons: readonly Reason[];
  answeredBy: { country: string; name: string } | null;
}

/** What a re-read of the key file came to: new keys in use, or why the old ones stay. */
export type KeyReload = { ring: ReceiptKeyRing; error?: undefined } | { error: Error; ring?: undefined };

/** Who signs: the home registry of this gateway and the address its receipts' keys are published at. */
export interface ReceiptIssuerIdentity {
  country: string;
  name: string;
  /** The gateway's public base URL; its keys are at <url>/.well-known/jwks.json. */
  url: string;
}

/**
 * Signs receipts with the newest key of the ring. Without a ring (production with no RECEIPT_KEY_FILE)
 * a receipt asked for is an error naming what to configure; the verdict itself is unaffected.
 */
export class ReceiptIssuer {
  readonly #listeners = new Set<(outcome: KeyReload) => void>();

  constructor(
    private keys: ReceiptKeyRing | null,
    private readonly identity: () => ReceiptIssuerIdentity,
    readonly ttlSeconds = DEFAULT_RECEIPT_TTL_SECONDS,
  ) {}

  /** Signs with `ring` from now on (a rotated key file, re-read): receipts already issued are unaffected. */
  useKeys(ring: ReceiptKeyRing): void {
    this.keys = ring;
    for (const listener of this.#listeners) listener({ ring });
  }

  /** A re-read that failed: the keys in use stay; listeners hear why. */
  keysRefused(error: Error): void {
    for (const listener of this.#listeners) listener({ error });
  }

  /** Called after each `useKeys` or `keysRefused`; returns the unsubscribe. */
  onKeys(listener: (outcome: KeyReload) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get keyRing(): ReceiptKeyRing | null {
    return this.keys;
  }

  get enabled(): boolean {
    return this.keys !== null;
  }

  async issue(subject: ReceiptSubject, now = new Date()): Promise<string> {
    if (!this.keys) throw registryError('RECEIPTS_DISABLED', 'this registry issues no receipts: its gateway has no receipt key (RECEIPT_KEY_FILE or RECEIPT_KEY; docs/receipts.md)');
    const issuer = this.identity();
    const iat = Math.floor(now.getTime() / 1000);
    const claims: Omit<ReceiptClaims, 'iss' | 'iat' | 'exp' | 'jti' | 'sub'> = {
      reg: { c: issuer.country, n: issuer.name },
      can: subject.canonical,
      ...(subject.input !== undefined && subject.input !== subject.code ? { in: subject.input } : {}),
      vd: subject.verdict,
      rs: subject.reasons.map(compactReason),
      ab: subject.answeredBy ? ({ c: subject.answeredBy.country, n: subject.answeredBy.name } satisfies ReceiptRegistry) : null,
    };
    return new SignJWT(claims)
      .setProtectedHeader({ alg: this.keys.alg, kid: this.keys.kid, typ: RECEIPT_TYPE })
      .setIssuer(issuer.url)
      .setSubject(subject.code)
      .setIssuedAt(iat)
      .setExpirationTime(iat + this.ttlSeconds)
      .setJti(randomBytes(12).toString('base64url'))
      .sign(this.keys.privateKey);
  }

  /** The public keys, each marked with this registry's country (served at /.well-known/jwks.json). */
  jwks(): JSONWebKeySet {
    return this.keys ? publicJwks(this.keys, this.identity().country) : { keys: [] };
  }
}

function compactReason(r: Reason): ReceiptReason {
  return {
    c: r.code,
    ...(r.recalls?.length ? { r: [...r.recalls] } : {}),
    ...(r.registry ? { g: r.registry.country } : {}),
    ...(r.enterprise ? { e: r.enterprise } : {}),
    ...(r.model ? { m: r.model } : {}),
    ...(r.country ? { y: r.country } : {}),
  };
}

/** RECEIPT_TTL: seconds, or a number with s, m, h or d ("30d"); default 30 days. */
export function receiptTtlFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.RECEIPT_TTL?.trim();
  if (!text) return DEFAULT_RECEIPT_TTL_SECONDS;
  const match = /^(\d+)\s*(s|m|h|d)?$/.exec(text);
  const seconds = match ? Number(match[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[(match[2] ?? 's') as 's' | 'm' | 'h' | 'd'] : NaN;
  if (!(seconds > 0) || seconds > 366 * 86_400) throw new Error(`RECEIPT_TTL=${JSON.stringify(text)}: expected a duration such as 30d, 12h or 3600 (at most 366 days)`);
  return seconds;
}
