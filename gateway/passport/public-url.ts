/**
 * The base every resolver link and QR code is built from: PUBLIC_URL when configured (the address a
 * phone reaches, e.g. behind a reverse proxy), else the gateway's own printed address. Never the
 * request's Host header: a label printed from a forged Host would send every scanner elsewhere.
 */
export function publicBaseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`PUBLIC_URL ${JSON.stringify(value)} is not an absolute URL; give one such as https://registry.example.org`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`PUBLIC_URL ${JSON.stringify(value)} must use http or https`);
  if (url.search || url.hash || url.username || url.password) {
    throw new Error(`PUBLIC_URL ${JSON.stringify(value)} must have no query, fragment or credentials`);
  }
  // A path prefix is kept (a proxy serving the registry under /registry); the trailing slash is not.
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** The resolver URL of a canonical code: what a label's QR code holds. */
export function resolverUrl(base: string, canonical: string): string {
  return `${base}/id/${canonical}`;
}
