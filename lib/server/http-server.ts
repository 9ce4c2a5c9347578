import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import { rootLogger, type Logger } from '../logging/logger.js';
import { serveMetrics } from '../metrics/metrics-endpoint.js';
import { countHttpRequest } from '../metrics/request-metrics.js';
import { withIncomingTrace } from '../telemetry/tracing.js';
import { HttpRefusal } from './http-refusal.js';
import { readBody } from './read-body.js';
import { requestContextFromHeaders, type Caller, type RequestContext } from './request-context.js';

export interface GraphQLHttpOptions<TContext extends BaseContext> {
  apollo: ApolloServer<TContext>;
  /** Builds the per-request GraphQL context (DataLoaders live here, so they never outlive a request). */
  context(request: RequestContext, http: { clientAddress?: string }): Promise<TContext>;
  /**
   * Rejects with a reason when the service cannot serve (database down, home registry unreachable).
   * May resolve (or reject, as `details`) with more to report, such as each registry's status.
   */
  ready(): Promise<Record<string, unknown> | void>;
  /** Optional HTML served on GET /graphql and GET / for browsers (must not load anything from a CDN). */
  landingPage?: string;
  /** Headers sent with the landing page (its Content-Security-Policy); nosniff is always sent. */
  landingPageHeaders?: Record<string, string>;
  /** Request bodies above this are refused with 413 before parsing (Apollo's own default is 50 MB). */
  maxBodyBytes?: number;
  /** Extra routes tried before GraphQL; return true when handled. */
  routes?: (req: IncomingMessage, res: ServerResponse) => Promise<boolean> | boolean;
  /** Service name on every line when `log` is not given. */
  name?: string;
  /** The service's logger; each request logs through a child carrying its request id. */
  log?: Logger;
  /** Who is calling, run before the body is read; an HttpRefusal (a 401) is answered and nothing executes. */
  authenticate?: (req: IncomingMessage) => Promise<Caller | null>;
  /**
   * Run on the exact body bytes before anything parses them (lib/security/request-verifier.ts): a refusal
   * is answered as is; a pass supplies the verified caller and request id. Nothing returned: headers as sent.
   */
  verifyRequest?: (req: IncomingMessage, rawBody: Buffer) => Promise<RequestVerdict | void>;
}

export type RequestVerdict =
  | { ok: true; requestId: string; caller: Caller | null }
  | { ok: false; status: number; code: string; message: string };

export interface RunningServer {
  url: string;
  port: number;
  /** Stops accepting connections, lets in-flight requests finish, then stops Apollo. */
  stop(): Promise<void>;
}

const DEFAULT_MAX_BODY = 2 * 1024 * 1024;

/**
 * A small node:http integration for Apollo Server: /graphql, /health/live, /health/ready and a body
 * limit. Built here rather than with startStandaloneServer so that health checks, limits and graceful
 * shutdown are ours to control.
 */
export async function startGraphQLServer<TContext extends BaseContext>(
  options: GraphQLHttpOptions<TContext>,
  port = 0,
  host = '127.0.0.1',
): Promise<RunningServer> {
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const serviceLog = options.log ?? rootLogger().child({ service: options.name ?? 'graphql' });
  const service = String(serviceLog.bindings().service ?? options.name ?? 'graphql');
  let stopping = false;
  const server = createServer((req, res) => {
    const started = performance.now();
    const request: Exchange = { context: requestContextFromHeaders(req.headers, serviceLog) };
    // Spans of this request continue the caller's trace (W3C traceparent), as the gateway's calls send it.
    withIncomingTrace(req.headers, () => handle(req, res, request))
      .catch((error) => {
        request.context.log.error({ err: error }, 'unhandled request error');
        if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'internal error' }] });
        else res.destroy();
      })
      .finally(() => {
        logAccess(req, res, request, performance.now() - started);
        countHttpRequest(service, request.path, res.statusCode);
      });
  });
  // Keep-alive sockets must not hold shutdown hostage; the gateway reconnects.
  server.keepAliveTimeout = 5_000;

  async function handle(req: IncomingMessage, res: ServerResponse, exchange: Exchange): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    exchange.path = url.pathname;
    if (url.pathname === '/health/live') return sendJson(res, 200, { status: 'live' });
    if (url.pathname === '/health/ready') {
      if (stopping) return sendJson(res, 503, { status: 'stopping' });
      try {
        const details = await options.ready();
        return sendJson(res, 200, { status: 'ready', ...details });
      } catch (error) {
        const details = (error as { details?: Record<string, unknown> }).details;
        return sendJson(res, 503, { status: 'unavailable', reason: (error as Error).message, ...details });
      }
    }
    if (url.pathname === '/metrics') return serveMetrics(req, res); // lib/metrics: token, or loopback in development
    if (options.routes && (await options.routes(req, res))) return;
    const wantsHtml = req.method === 'GET' && (req.headers.accept ?? '').includes('text/html');
    if (options.landingPage && wantsHtml && (url.pathname === '/' || url.pathname === '/graphql')) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'x-content-type-options': 'nosniff', ...options.landingPageHeaders });
      return void res.end(options.landingPage);
    }
    if (url.pathname !== '/graphql') return sendJson(res, 404, { error: `no route ${url.pathname}; try /graphql` });

    const requestContext = exchange.context;
    res.setHeader('x-request-id', requestContext.requestId);
    if (options.authenticate) {
      try {
        requestContext.caller = await options.authenticate(req);
      } catch (error) {
        if (!(error instanceof HttpRefusal)) throw error;
        // A 5xx refusal (the token keys could not be read) is a dependency's failure, not the client's.
        requestContext.log[error.status >= 500 ? 'warn' : 'info']({ status: error.status, code: error.code, reason: error.message }, 'request refused');
        return sendRefusal(res, error);
      }
      const caller = requestContext.caller;
      if (caller) requestContext.log = requestContext.log.child({ subject: caller.subject, role: caller.role });
    }

    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBody) return sendGraphQLError(res, 413, `request body over the ${maxBody}-byte limit`);
    const bytes = await readBody(req, maxBody);
    if (bytes === null) {
      // The rest of the body is never read: answer and close the connection instead of draining it.
      res.setHeader('connection', 'close');
      return sendGraphQLError(res, 413, `request body over the ${maxBody}-byte limit`);
    }
    const verdict = options.verifyRequest ? await options.verifyRequest(req, bytes) : undefined;
    if (verdict && !verdict.ok) {
      requestContext.log[verdict.status >= 500 ? 'warn' : 'info']({ status: verdict.status, code: verdict.code, reason: verdict.message }, 'request refused');
      return sendJson(res, verdict.status, { errors: [{ message: verdict.message, extensions: { code: verdict.code } }] });
    }
    if (verdict) {
      // Signed by the gateway: its request id and the caller it vouches for replace what the headers said.
      requestContext.requestId = verdict.requestId;
      requestContext.caller = verdict.caller;
      requestContext.log = serviceLog.child({ requestId: verdict.requestId, ...(verdict.caller ? { subject: verdict.caller.subject, role: verdict.caller.role } : {}) });
      res.setHeader('x-request-id', verdict.requestId);
    }
    const raw = bytes.toString('utf8');

    let body: unknown = undefined;
    if (req.method === 'POST') {
      try {
        body = raw.length ? JSON.parse(raw) : undefined;
      } catch {
        return sendGraphQLError(res, 400, 'request body is not valid JSON');
      }
    }
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    exchange.operation = operationName(req.method === 'POST' ? body : Object.fromEntries(url.searchParams));
    // Every line about this request from here on names its operation, as it names the caller.
    if (exchange.operation) requestContext.log = requestContext.log.child({ operation: exchange.operation });
    const response = await options.apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body },
      // Kept so the access line sees the caller that access control put on the context.
      context: async () => (exchange.built = await options.context(requestContext, { clientAddress: req.socket.remoteAddress })),
    });
    for (const [key, value] of response.headers) res.setHeader(key, value);
    // While stopping, tell keep-alive clients not to reuse this socket so close() completes promptly.
    if (stopping) res.setHeader('connection', 'close');
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') return void res.end(response.body.string);
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  }

  await options.apollo.start();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const hostForUrl = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return {
    port: address.port,
    url: `http://${hostForUrl}:${address.port}/graphql`,
    async stop() {
      if (stopping) return;
      stopping = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await closed;
      await options.apollo.stop();
    },
  };
}

/** One request as the access line sees it. */
interface Exchange {
  context: RequestContext;
  path?: string;
  operation?: string;
  built?: { caller?: RequestContext['caller'] };
}

// Probes and scrapes hit every few seconds; they are logged only at debug so the access log stays readable.
const PROBES = new Set(['/health/live', '/health/ready', '/metrics']);

function logAccess(req: IncomingMessage, res: ServerResponse, exchange: Exchange, ms: number): void {
  const log = exchange.context.log;
  const probe = PROBES.has(exchange.path ?? '');
  if (!log.isLevelEnabled(probe ? 'debug' : 'info')) return;
  const caller = exchange.built?.caller ?? exchange.context.caller;
  const errors = exchange.context.errorCodes;
  const line = {
    method: req.method,
    path: exchange.path ?? req.url,
    status: res.statusCode,
    ms: Math.round(ms * 10) / 10,
    // Always present, so that "who asked what" is one filter: the subject (or anonymous) and the operation.
    caller: caller?.subject ?? 'anonymous',
    ...(exchange.operation ? {} : { operation: '(none)' }), // else bound to the request's logger
    ...(errors?.length ? { errors } : {}),
  };
  if (probe) log.debug(line, 'request');
  else log.info(line, 'request');
}

const OPERATION = /^\s*(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)/;
const NAME = /^[_A-Za-z][_0-9A-Za-z]{0,99}$/;

/** The operation's name as the client gave it (only if it is a GraphQL name), or as the query's first definition names it. */
function operationName(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const { operationName: given, query } = body as { operationName?: unknown; query?: unknown };
  if (typeof given === 'string' && given) return NAME.test(given) ? given : '(invalid name)';
  return typeof query === 'string' ? OPERATION.exec(query.slice(0, 300))?.[1] : undefined;
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

function sendRefusal(res: ServerResponse, refusal: HttpRefusal): void {
  for (const [key, value] of Object.entries(refusal.headers)) res.setHeader(key, value);
  // The body is never read: close the connection rather than leave an unread upload on it.
  res.setHeader('connection', 'close');
  sendJson(res, refusal.status, { errors: [{ message: refusal.message, extensions: { code: refusal.code } }] });
}

function sendGraphQLError(res: ServerResponse, status: number, message: string): void {
  const code = status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST';
  sendJson(res, status, { errors: [{ message, extensions: { code } }] });
}
