import type { JSONWebKeySet, JWK } from 'jose';

/**
 * `receiptKeys` of a directory entry: where that registry publishes its receipt keys, as a URL (its
 * /.well-known/jwks.json) or an inline JWKS of public keys. The directory, configured by the authority,
 * binds each key to the registry: `npm run receipt -- keys --directory` bundles them for offline use.
 */
export type ReceiptKeysSource = { readonly url: string } | { readonly keys: readonly JWK[] };

export function readReceiptKeys(raw: unknown, where: string, problems: string[]): ReceiptKeysSource | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'string') {
    let url: URL | null = null;
    try {
      url = new URL(raw);
    } catch {
      /* reported below */
    }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) return void problems.push(`${where} must be an http(s) URL of a JWKS or an inline JWKS ({ "keys": [...] })`);
    return Object.freeze({ url: raw });
  }
  const keys = (raw as JSONWebKeySet).keys;
  if (!Array.isArray(keys) || keys.length === 0) return void problems.push(`${where} must be an http(s) URL of a JWKS or an inline JWKS with at least one key`);
  keys.forEach((k: JWK, i) => {
    if (typeof k?.kty !== 'string' || typeof k.kid !== 'string') problems.push(`${where}.keys[${i}] needs "kty" and "kid"`);
    else if ('d' in k) problems.push(`${where}.keys[${i}] (${k.kid}) holds a private key: publish public keys only`);
  });
  return Object.freeze({ keys: Object.freeze([...keys]) });
}
