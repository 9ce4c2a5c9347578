import type { IncomingMessage, ServerResponse } from 'node:http';
import { GraphiqlAssets } from './graphiql-assets.js';

export interface Example {
  title: string;
  query: string;
}

export interface GraphiqlPage {
  /** The HTML served on GET / and GET /graphql to browsers. */
  html: string;
  /** Its Content-Security-Policy and the other security headers. */
  headers: Record<string, string>;
  /** Answers GET /graphiql/<file> (the bundle); false for any other request. */
  serveAsset(req: IncomingMessage, res: ServerResponse): boolean;
  /** False when the bundle was never built: the page then says how to build it. */
  built: boolean;
}

// JSONC: GraphiQL reads the headers editor with comments allowed, so the guidance can sit in it while the
// page stays anonymous until a token is pasted.
const DEFAULT_HEADERS = `{
  // Anonymous until a token is here. Get one with
  //   npm run -s token -- --role analyst | tail -1
  // (README, "Two commands"), paste it below and
  // remove the "//"; an API key: "ApiKey rrk_...".
  // "authorization": "Bearer <paste a token>"
}
`;

const CURL = `curl -s <this address>/graphql -H 'content-type: application/json' -d '{"query":"{ registries { country name } }"}'`;

/**
 * GraphiQL served from the gateway's own files (scripts/build-graphiql.ts bundles it at build time), so
 * it works behind a customs firewall with no internet: nothing loads from a CDN.
 */
export function graphiqlPage(examples: Example[], assets = GraphiqlAssets.load()): GraphiqlPage {
  const html = assets ? appHtml(assets, examples) : notBuiltHtml();
  return {
    html,
    headers: graphiqlSecurityHeaders(),
    serveAsset: (req, res) => assets?.serve(req, res) ?? false,
    built: !!assets,
  };
}

function appHtml(assets: GraphiqlAssets, examples: Example[]): string {
  const { manifest } = assets;
  const config = {
    endpoint: '/graphql',
    examples,
    defaultHeaders: DEFAULT_HEADERS,
    workers: {
      editor: assets.url(manifest.workers.editor),
      json: assets.url(manifest.workers.json),
      graphql: assets.url(manifest.workers.graphql),
    },
  };
  // A data block, never executed; `<` escaped so no example text can close the tag.
  const json = JSON.stringify(config).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Robot identity registry: GraphiQL</title>
<link rel="stylesheet" href="${assets.url(manifest.css)}">
<style>html,body,#graphiql{height:100%;margin:0}noscript p{font:15px/1.5 system-ui,sans-serif;margin:1rem}</style>
</head><body>
<div id="graphiql"><noscript><p>${NO_SCRIPT}</p></noscript></div>
<script type="application/json" id="graphiql-config">${json}</script>
<script src="${assets.url(manifest.app)}"></script>
</body></html>`;
}

const NO_SCRIPT = `GraphiQL needs JavaScript. Without it, send queries to <code>POST /graphql</code> here, e.g. <code>${escapeHtml(CURL)}</code> (README, "Two commands").`;

function notBuiltHtml(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Robot identity registry</title></head><body>
<p>GraphiQL is not built on this server: run <code>npm run build</code> and restart the gateway.</p>
<p>${NO_SCRIPT.replace('GraphiQL needs JavaScript. Without it, send', 'Meanwhile, send')}</p>
</body></html>`;
}

/**
 * Same headers as gateway/limits/page-headers.ts, with what GraphiQL needs: its script, CSS and Monaco's
 * workers come from this origin only; fonts and icons are data: URLs inside that CSS. Styles allow
 * 'unsafe-inline' because Monaco writes its theme into <style> elements at run time (it has no nonce
 * support); that lets no script run.
 */
export function graphiqlSecurityHeaders(): Record<string, string> {
  const policy = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "font-src 'self' data:",
    "img-src 'self' data:",
    "worker-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { 'content-security-policy': policy, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
