// First: the tracer provider and instrumentations must be in place before `graphql` loads (as register.ts is).
import { spanExporter, tracing, waitForSpans } from './support/tracing.js';
import { SpanKind, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFederation, type Federation } from './support/federation.js';
import { seedNode } from './support/seed-node.js';

const SHIPMENT = 'query Shipment($c: [String!]!) { verifyMany(codes: $c) { verdict reasons { code } } }';
/** The verdict's facts are gathered by the gateway's own batch (gateway/verdict/verdict-facts.ts), not by the plan. */
const FACT_OPERATION = /^query (Shipment|VerificationFacts)__/;

describe('traces: one verifyMany over two registries is one trace, from the client to each registry and its SQL', () => {
  let fed: Federation;
  let cn: string[];
  let de: string[];
  beforeAll(async () => {
    fed = await startFederation([{ country: 'CN', name: 'China registry' }, { country: 'DE', name: 'German registry' }]);
    cn = await seedNode(fed.nodes[0]!, 'CNAAAA', 'CNAAAA000001', 2);
    de = await seedNode(fed.nodes[1]!, 'DEBBBB', 'DEBBBB000001', 2);
  });
  afterAll(async () => {
    await fed?.stop();
    await tracing.stop();
  });

  it('links the gateway operation, a fetch to each registry, each subgraph operation and its SQL statements under the client span', async () => {
    spanExporter.reset();
    // The client: its span is the root; the test's fetch sends its traceparent to the gateway.
    const client = trace.getTracer('customs-client');
    let traceId = '';
    const result = await client.startActiveSpan('customs client', async (span) => {
      traceId = span.spanContext().traceId;
      try {
        return await fed.query(SHIPMENT, { c: [cn[0], de[0], cn[1], de[1]] });
      } finally {
        span.end();
      }
    });
    expect(result.errors).toBeUndefined();
    expect(result.data.verifyMany.map((v: { verdict: string }) => v.verdict)).toEqual(['ADMIT', 'ADMIT', 'ADMIT', 'ADMIT']);

    // Which node and subgraph listens on each port.
    const ports = new Map<number, { node: string; subgraph: string }>();
    for (const node of fed.nodes) for (const [subgraph, url] of Object.entries(node.urls)) ports.set(Number(new URL(url!).port), { node: node.node.name, subgraph });
    const gatewayPort = Number(new URL(fed.gateway.url).port);

    /** What the trace lacks, as sentences; empty when complete. Spans end after answers are sent, so this is waited on. */
    const missing = (spans: ReadableSpan[]): string[] => {
      const inTrace = spans.filter((s) => s.spanContext().traceId === traceId);
      const children = (parent: ReadableSpan) => inTrace.filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId);
      const descendants = (parent: ReadableSpan): ReadableSpan[] => children(parent).flatMap((c) => [c, ...descendants(c)]);
      const root = inTrace.find((s) => s.name === 'customs client' && !s.parentSpanContext);
      if (!root) return ['the client span'];
      const under = descendants(root);
      const gaps: string[] = [];
      const gatewayServer = under.find((s) => s.kind === SpanKind.SERVER && s.attributes['server.port'] === gatewayPort);
      if (!gatewayServer) gaps.push("the gateway's server span");
      if (!under.some((s) => s.name === 'gateway.request' && s.attributes['graphql.operation.name'] === 'Shipment')) gaps.push('the gateway operation (gateway.request Shipment)');
      if (!under.some((s) => s.name === 'gateway.plan')) gaps.push("the gateway's query plan");
      // Every fetch to a registry: a client span whose child is that subgraph's server span, the subgraph's
      // operation under it and at least one SQL statement under that.
      const fetches = under.filter((s) => s.name === 'POST' && s.kind === SpanKind.CLIENT && ports.has(Number(s.attributes['server.port'])));
      const registriesAnswered = new Set<string>();
      for (const fetch of fetches) {
        const target = ports.get(Number(fetch.attributes['server.port']))!;
        const where = `${target.subgraph} of ${target.node}`;
        const server = children(fetch).find((s) => s.kind === SpanKind.SERVER && s.attributes['server.port'] === fetch.attributes['server.port']);
        if (!server) {
          gaps.push(`the server span of ${where}, child of the gateway's fetch`);
          continue;
        }
        const operation = descendants(server).find((s) => FACT_OPERATION.test(s.name) && s.attributes['graphql.operation.name']);
        if (!operation) {
          gaps.push(`the operation of ${where}`);
          continue;
        }
        const statements = descendants(operation).filter((s) => s.attributes['db.system.name'] === 'postgresql');
        if (!statements.some((s) => /^\s*select\b/i.test(String(s.attributes['db.query.text'])) && String(s.attributes['db.namespace']).endsWith(`|${target.subgraph.replace('-', '_')}`))) {
          gaps.push(`a SQL statement of ${where}`);
          continue;
        }
        registriesAnswered.add(target.node);
      }
      for (const node of fed.nodes) if (!registriesAnswered.has(node.node.name)) gaps.push(`a fetch to ${node.node.name} with its operation and SQL`);
      return gaps;
    };
    const spans = await waitForSpans(missing);

    // One trace: every span of this verifyMany's subgraph operations and statements carries the client's trace id.
    const operations = spans.filter((s) => FACT_OPERATION.test(s.name));
    expect(new Set(operations.map((s) => s.spanContext().traceId))).toEqual(new Set([traceId]));
    const registries = new Set(spans.filter((s) => s.kind === SpanKind.SERVER && ports.has(Number(s.attributes['server.port'])) && s.spanContext().traceId === traceId).map((s) => ports.get(Number(s.attributes['server.port']))!.node));
    expect([...registries].sort()).toEqual(['China registry', 'German registry']);
    // Statements are recorded with placeholders, never with the codes asked about.
    const statements = spans.filter((s) => s.attributes['db.query.text'] !== undefined);
    expect(statements.length).toBeGreaterThan(0);
    for (const code of [...cn, ...de]) expect(statements.some((s) => String(s.attributes['db.query.text']).includes(code))).toBe(false);
  });
});
