import { basename } from 'node:path';

/**
 * Loaded before the application with `node --import ./dist/lib/telemetry/register.js` (scripts/start.ts
 * does so when OTEL_EXPORTER_OTLP_ENDPOINT is set; the compose services always, it is a no-op without
 * it): ESM imports are resolved before any code runs, so this is the only way to be in place before
 * `graphql` loads. Exports spans over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT (or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT); the exporter reads the other standard OTEL_* variables (headers,
 * timeout), the SDK the sampler (OTEL_TRACES_SAMPLER). Without an endpoint nothing is even loaded.
 */
const endpoint = process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || process.env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
if (endpoint && process.env.OTEL_SDK_DISABLED !== 'true') {
  const [{ OTLPTraceExporter }, { BatchSpanProcessor }, { startTracing }] = await Promise.all([
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/sdk-trace-node'),
    import('./tracing-setup.js'),
  ]);
  const tracing = startTracing({ serviceName: serviceName(process.argv), spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())] });
  // On SIGTERM/SIGINT the servers drain, then exit: send what is batched so far as the stop begins.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.prependListener(signal, () => void tracing.provider.forceFlush());
}

/** `robot-registry-gateway`, `robot-registry-node`, or `robot-registry-<subgraph>` for `registry-node --only <subgraph>`. */
function serviceName(argv: string[]): string {
  const script = basename(argv[1] ?? '', '.js');
  const only = argv.indexOf('--only');
  if (script === 'registry-node') return `robot-registry-${only > 0 && argv[only + 1] ? argv[only + 1] : 'node'}`;
  return `robot-registry-${script === 'gateway' ? 'gateway' : script || 'process'}`;
}
