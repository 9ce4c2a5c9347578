import { context, propagation, ProxyTracerProvider, SpanKind, SpanStatusCode, trace, TraceFlags, type Attributes } from '@opentelemetry/api';
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * What the application code knows of tracing: only `@opentelemetry/api`, whose calls are no-ops until
 * a tracer provider is registered (lib/telemetry/register.ts, or a test). With none, nothing here
 * allocates a span: `tracingEnabled()` is checked first where a span would be built.
 */
const tracer = trace.getTracer('robot-registry');
const NO_PROVIDER = new ProxyTracerProvider().getDelegate();

/** Whether some SDK registered a tracer provider (ours or an operator's own). */
export function tracingEnabled(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider && provider.getDelegate() === NO_PROVIDER);
}

/**
 * Runs `work` in the trace context an incoming request carries (`traceparent`), unless an
 * instrumentation already made a server span for it: then that span is the parent, as it should be.
 */
export function withIncomingTrace<T>(headers: IncomingHttpHeaders, work: () => T): T {
  if (!headers.traceparent || trace.getSpan(context.active())) return work();
  return context.with(propagation.extract(context.active(), headers), work);
}

/**
 * One outgoing call to a subgraph (the gateway's undici transport): a client span, and its W3C
 * `traceparent` added to `headers`; made here, not left to the undici instrumentation (which skips a
 * request that already has one), so that it holds with any SDK and is off at no cost. Request
 * signatures do not cover this header (lib/security/request-signer.ts): adding it changes no signature.
 */
export async function traceOutgoingCall<T extends { status: number }>(url: string, headers: Record<string, string>, call: () => Promise<T>): Promise<T> {
  if (!tracingEnabled()) return call();
  if (!trace.getSpan(context.active())) {
    // A call of no request (a health probe every 15 s, a conformance check): not traced, and the subgraph
    // is told so (a traceparent that is not sampled) rather than start a trace of its own.
    const unsampled = { traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex'), traceFlags: TraceFlags.NONE };
    propagation.inject(trace.setSpanContext(context.active(), unsampled), headers);
    return call();
  }
  const target = new URL(url);
  const span = tracer.startSpan('POST', {
    kind: SpanKind.CLIENT,
    attributes: { 'http.request.method': 'POST', 'url.full': url, 'server.address': target.hostname, 'server.port': Number(target.port || (target.protocol === 'https:' ? 443 : 80)) },
  });
  propagation.inject(trace.setSpan(context.active(), span), headers);
  try {
    const answer = await call();
    span.setAttribute('http.response.status_code', answer.status);
    if (answer.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    return answer;
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
    throw error;
  } finally {
    span.end();
  }
}

export interface StatementDone {
  sql: string;
  durationMs: number;
  error?: unknown;
}

const OPERATION = /^\s*(\w+)/;
const MAX_QUERY_TEXT = 2_000;

/**
 * A span for one SQL statement that has just run, built from Kysely's log event (lib/database): the
 * only place that sees statements of both Postgres and the embedded PGlite, which no instrumentation
 * covers. The statement's text has placeholders; its parameters (codes, owners) are never recorded.
 */
export function recordStatementSpan(statement: StatementDone, attributes: { system: 'postgresql'; namespace: string; schema: string }): void {
  const operation = OPERATION.exec(statement.sql)?.[1]?.toUpperCase() ?? 'SQL';
  const end = performance.timeOrigin + performance.now();
  const span = tracer.startSpan(`${operation} ${attributes.schema}`, {
    kind: SpanKind.CLIENT,
    startTime: end - statement.durationMs,
    attributes: {
      'db.system.name': attributes.system,
      'db.namespace': `${attributes.namespace}|${attributes.schema}`,
      'db.operation.name': operation,
      'db.query.text': statement.sql.length > MAX_QUERY_TEXT ? `${statement.sql.slice(0, MAX_QUERY_TEXT)}...` : statement.sql,
    } satisfies Attributes,
  });
  if (statement.error !== undefined) {
    const code = (statement.error as { code?: unknown }).code;
    if (typeof code === 'string') span.setAttribute('db.response.status_code', code);
    span.setStatus({ code: SpanStatusCode.ERROR, message: typeof code === 'string' ? `SQLSTATE ${code}` : 'statement failed' });
  }
  span.end(end);
}
