import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ReceiptIssuer } from './receipt-issuer.js';

export const JWKS_PATH = '/.well-known/jwks.json';

/**
 * GET /.well-known/jwks.json: this registry's public receipt keys, newest (signing) first, retired ones
 * after it. Public and cacheable for a few minutes: verifiers fetch it once and work offline after.
 */
export function receiptKeysRoute(issuer: ReceiptIssuer) {
  return function receiptKeys(req: IncomingMessage, res: ServerResponse): boolean {
    if ((req.url ?? '/').split('?', 1)[0] !== JWKS_PATH) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      res.end('GET or HEAD only\n');
      return true;
    }
    const body = JSON.stringify(issuer.jwks(), null, 2) + '\n';
    res.writeHead(200, {
      'content-type': 'application/jwk-set+json',
      'cache-control': 'public, max-age=300',
      'access-control-allow-origin': '*',
      'x-content-type-options': 'nosniff',
      'content-length': Buffer.byteLength(body),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}
