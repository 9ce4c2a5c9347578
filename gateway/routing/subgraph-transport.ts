import type { EventEmitter } from 'node:events';
import { Pool } from 'undici';
import { traceOutgoingCall } from '../../lib/telemetry/tracing.js';

/** A subgraph's answer as it came: status and body text (parsed by whoever reads it). */
export interface RawAnswer {
  status: number;
  text: string;
}

interface Endpoint {
  pool: Pool;
  path: string;
  search: string;
}

/**
 * POSTs to subgraphs over keep-alive connection pools, one per origin, with undici's `request`: no web
 * streams and no AbortController per call (both showed up above @apollo/gateway itself in profiles of
 * `fetch`). `signal` (the guard's deadline) cancels the request.
 * Redirects are not followed: a subgraph that answers 3xx is answering wrongly.
 */
export class SubgraphTransport {
  private readonly endpoints = new Map<string, Endpoint>();
  private readonly pools = new Map<string, Pool>();

  async post(url: string, headers: Record<string, string>, body: string, signal: EventEmitter): Promise<RawAnswer> {
    const { pool, path } = this.endpoint(url);
    // A client span, and its traceparent in `headers` (a no-op while tracing is off).
    return traceOutgoingCall(url, headers, async () => {
      const response = await pool.request({ method: 'POST', path, headers, body, signal });
      return { status: response.statusCode, text: await response.body.text() };
    });
  }

  /** The URL's query string, as request signatures cover it. */
  searchOf(url: string): string {
    return this.endpoint(url).search;
  }

  /** Closes the pools of origins no longer in `urls` (after a directory reload). */
  retain(urls: Iterable<string>): void {
    const origins = new Set([...urls].map((url) => new URL(url).origin));
    for (const [origin, pool] of this.pools) {
      if (origins.has(origin)) continue;
      this.pools.delete(origin);
      void pool.close().catch(() => undefined);
    }
    for (const url of this.endpoints.keys()) if (!origins.has(new URL(url).origin)) this.endpoints.delete(url);
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    this.endpoints.clear();
    await Promise.all(pools.map((pool) => pool.close().catch(() => undefined)));
  }

  private endpoint(url: string): Endpoint {
    let endpoint = this.endpoints.get(url);
    if (!endpoint) {
      const parsed = new URL(url);
      let pool = this.pools.get(parsed.origin);
      if (!pool) this.pools.set(parsed.origin, (pool = new Pool(parsed.origin)));
      this.endpoints.set(url, (endpoint = { pool, path: parsed.pathname + parsed.search, search: parsed.search }));
    }
    return endpoint;
  }
}
