import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApolloServer } from '@apollo/server';
import { parseCode } from '../../lib/identity-code/identity-code.js';
import type { Logger } from '../../lib/logging/logger.js';
import { requestContextFromHeaders } from '../../lib/server/request-context.js';
import type { LimitsContext } from '../limits/limits-plugin.js';
import { pageSecurityHeaders } from '../limits/page-headers.js';
import { admitLabel, loadPassport } from './passport-facts.js';
import { passportPage, refusalPage } from './passport-html.js';
import { passportJson } from './passport-json.js';
import { qrPng, qrSvg, receiptQrSvg } from './passport-qr.js';
import { resolverUrl } from './public-url.js';

export interface PassportRouteOptions {
  apollo: ApolloServer<LimitsContext>;
  /** The configured public base URL (PUBLIC_URL, or the gateway's own address once it listens). */
  publicUrl: () => string;
  log: Logger;
}

const PREFIX = '/id/';
const QR_SUFFIX = /\/qr\.(svg|png)$/;
// Verdicts change (a theft report, a recall) and must show at once: pages are never cached.
const NO_STORE = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', vary: 'accept' };

/**
 * The resolver: GET /id/<code> in any written form redirects to /id/<CANONICAL>, which answers the
 * passport (HTML for browsers, JSON for `Accept: application/json`); /id/<CANONICAL>/qr.svg and
 * /qr.png are the label's QR code of the resolver URL. For http-server's `routes` hook.
 */
export function passportRoutes(options: PassportRouteOptions) {
  return async function passportRoute(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    if (!path.startsWith(PREFIX)) return false;
    await resolve(options, req, res, path.slice(PREFIX.length));
    return true;
  };
}

/** `rest` is the path after /id/: a code as written, maybe with /qr.svg or /qr.png after it. */
async function resolve(options: PassportRouteOptions, req: IncomingMessage, res: ServerResponse, rest: string): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
    return void res.end('the resolver answers GET and HEAD only\n');
  }
  const qr = QR_SUFFIX.exec(rest)?.[1] as 'svg' | 'png' | undefined;
  if (qr) rest = rest.slice(0, -'/qr.xxx'.length);
  const trailingSlash = rest.endsWith('/');
  if (trailingSlash) rest = rest.slice(0, -1);
  let input: string;
  try {
    input = decodeURIComponent(rest);
  } catch {
    return answerRefusal(req, res, 400, 'BAD_REQUEST', 'the code in the URL is not valid percent-encoding');
  }
  // Structure only (no directory): a code of an unknown country still has a canonical form to go to.
  const parsed = parseCode(input);
  const canonical = parsed.canonical;
  const base = options.publicUrl();
  if (canonical && (rest !== canonical || trailingSlash)) {
    // 301: the canonical form is a pure function of the text, so the move is permanent and cacheable;
    // only GET and HEAD are served, so 308's method preservation buys nothing, and every scanner app knows 301.
    // A path, not a URL: under PUBLIC_URL's prefix, and never built from the request's Host.
    const location = `${new URL(base).pathname.replace(/\/$/, '')}${PREFIX}${canonical}${qr ? `/qr.${qr}` : ''}`;
    res.writeHead(301, { location, 'cache-control': 'public, max-age=86400', 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' });
    return void res.end();
  }
  const context: LimitsContext = { ...requestContextFromHeaders(req.headers, options.log), clientAddress: req.socket.remoteAddress };
  res.setHeader('x-request-id', context.requestId);
  if (qr) {
    if (!canonical) {
      return answerRefusal(req, res, 400, 'MALFORMED_CODE', `no QR code for a malformed code: ${parsed.problems.map((p) => p.message).join('; ')}`);
    }
    const refused = await admitLabel(options.apollo, canonical, context);
    if (refused) return answerRefusal(req, res, refused.status, refused.code, refused.message, refused.retryAfter);
    const url = resolverUrl(base, canonical);
    res.writeHead(200, {
      'content-type': qr === 'svg' ? 'image/svg+xml' : 'image/png',
      // The image depends on the code and PUBLIC_URL alone; an SVG opened on its own may run nothing.
      'cache-control': 'public, max-age=86400',
      'content-security-policy': "default-src 'none'",
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
    return void res.end(qr === 'svg' ? await qrSvg(url) : await qrPng(url));
  }

  const answer = await loadPassport(options.apollo, input, context);
  if (!answer.ok) return answerRefusal(req, res, answer.status, answer.code, answer.message, answer.retryAfter);
  const facts = answer.facts;
  const url = facts.code ? resolverUrl(base, facts.code) : null;
  // A malformed code is answered (REFUSE with its problems), but the URL names no robot: 400.
  const status = facts.code ? 200 : 400;
  if (wantsJson(req)) {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...NO_STORE });
    return void res.end(passportJson(facts, url));
  }
  const receiptSvg = facts.receipt ? await receiptQrSvg(facts.receipt) : null;
  const page = passportPage(facts, url ? { url, svg: await qrSvg(url) } : null, receiptSvg);
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...NO_STORE, ...pageSecurityHeaders(page) });
  res.end(page);
}

function answerRefusal(req: IncomingMessage, res: ServerResponse, status: number, code: string, message: string, retryAfter?: string): void {
  if (retryAfter) res.setHeader('retry-after', retryAfter);
  if (wantsJson(req)) {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...NO_STORE });
    return void res.end(JSON.stringify({ error: { code, message } }));
  }
  const page = refusalPage(status, message);
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...NO_STORE, ...pageSecurityHeaders(page) });
  res.end(page);
}

/** JSON when the client ranks application/json above text/html; HTML otherwise (browsers, scanners, curl). */
export function wantsJson(req: IncomingMessage): boolean {
  let json = 0;
  let html = 0;
  for (const part of (req.headers.accept ?? '').split(',')) {
    const [type, ...params] = part.trim().toLowerCase().split(';');
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!Number.isFinite(q)) continue;
    if (type === 'application/json') json = Math.max(json, q);
    if (type === 'text/html') html = Math.max(html, q);
  }
  return json > html;
}
