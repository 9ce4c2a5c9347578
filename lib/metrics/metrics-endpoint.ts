import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { metricsEnabled, metricsRegistry } from './registry.js';
import { refreshRegistryGauges } from './registry-metrics.js';

/**
 * GET /metrics on every HTTP server of the process, in Prometheus' text format. Who may read it
 * (docs/operations.md): with METRICS_TOKEN set, a scraper sending `Authorization: Bearer <token>`;
 * without it, in development only, a client on the same machine (loopback); in production nobody.
 * Read per request, so a test (or an operator's restart) changes it without rebuilding servers.
 */
export async function serveMetrics(req: IncomingMessage, res: ServerResponse, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const refusal = refuse(req, env);
  if (refusal) {
    res.writeHead(refusal.status, { 'content-type': 'text/plain; charset=utf-8', ...(refusal.status === 401 ? { 'www-authenticate': 'Bearer realm="metrics"' } : {}) });
    return void res.end(`${refusal.message}\n`);
  }
  refreshRegistryGauges();
  const body = await metricsRegistry.metrics();
  res.writeHead(200, { 'content-type': metricsRegistry.contentType, 'cache-control': 'no-store' });
  res.end(body);
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

function refuse(req: IncomingMessage, env: NodeJS.ProcessEnv): { status: number; message: string } | null {
  if (req.method !== 'GET') return { status: 405, message: 'GET /metrics only' };
  if (!metricsEnabled) return { status: 404, message: 'metrics are off (METRICS=off)' };
  const token = env.METRICS_TOKEN?.trim();
  if (token) {
    const given = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim() ?? '';
    // Compared as digests: equal lengths for timingSafeEqual, and no early exit on the first differing byte.
    return sameSecret(given, token) ? null : { status: 401, message: 'metrics need Authorization: Bearer <METRICS_TOKEN>' };
  }
  if (env.NODE_ENV === 'production') return { status: 404, message: 'metrics are off: set METRICS_TOKEN to serve them' };
  return LOOPBACK.has(req.socket.remoteAddress ?? '') ? null : { status: 403, message: 'without METRICS_TOKEN, metrics are served to this machine only' };
}

function sameSecret(a: string, b: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(a), digest(b));
}
