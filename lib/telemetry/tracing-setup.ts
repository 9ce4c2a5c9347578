import { createRequire } from 'node:module';
import { context, propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { GraphQLInstrumentation } from '@opentelemetry/instrumentation-graphql';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { NodeTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-node';

export interface Tracing {
  provider: NodeTracerProvider;
  /** Exports what is left, then unregisters everything (the test's scope ends, or the process stops). */
  stop(): Promise<void>;
}

/**
 * Registers a tracer provider with W3C trace-context propagation (no baggage: nothing of a caller's
 * travels to partner registries but trace ids) and the http, graphql and undici instrumentations.
 * Must run before `graphql` is first loaded: the graphql instrumentation patches it as it loads.
 */
export function startTracing(options: { serviceName: string; spanProcessors: SpanProcessor[] }): Tracing {
  const resource = defaultResource()
    .merge(resourceFromAttributes({ 'service.name': options.serviceName }))
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over our name.
    .merge(detectResources({ detectors: [envDetector] }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: options.spanProcessors });
  provider.register({ propagator: new W3CTraceContextPropagator() });
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        // Probes and scrapes every few seconds would bury the requests.
        ignoreIncomingRequestHook: (req) => /^\/(health\/|metrics)/.test(req.url ?? ''),
      }),
      // One span per parse, validate and execute: per-field spans would make a 1,000-item verifyMany unreadable.
      new GraphQLInstrumentation({ ignoreResolveSpans: true, ignoreTrivialResolveSpans: true }),
      // fetch (a node's sibling lookups, JWKS); the gateway's own transport makes its span and sends traceparent itself.
      new UndiciInstrumentation({ ignoreRequestHook: (request) => carriesTraceparent(request.headers) }),
    ],
  });
  // The http instrumentation patches `http` when it is required; this project imports it as ESM, which
  // does not pass through require: requiring it once here applies the patch (to the shared Server class).
  const require = createRequire(import.meta.url);
  require('node:http');
  require('node:https');
  return {
    provider,
    async stop() {
      unregister();
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

function carriesTraceparent(headers: unknown): boolean {
  if (typeof headers === 'string') return /^traceparent:/im.test(headers);
  if (Array.isArray(headers)) return headers.some((value, i) => i % 2 === 0 && String(value).toLowerCase() === 'traceparent');
  return false;
}
