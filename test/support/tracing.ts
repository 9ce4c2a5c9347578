import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { startTracing } from '../../lib/telemetry/tracing-setup.js';

/**
 * The production tracing setup (lib/telemetry/tracing-setup.ts) with spans kept in memory. Import it
 * before anything that loads `graphql`, as register.ts runs before the application. Vitest runs each
 * test file in a process of its own, and `stop()` unregisters it all: other tests never see it.
 */
export const spanExporter = new InMemorySpanExporter();
const ended = new Set<() => void>();
const notify: SpanProcessor = {
  onStart: () => undefined,
  onEnd: () => ended.forEach((listener) => listener()),
  forceFlush: async () => undefined,
  shutdown: async () => undefined,
};
export const tracing = startTracing({ serviceName: 'tracing-test', spanProcessors: [new SimpleSpanProcessor(spanExporter), notify] });

/**
 * Resolves with the finished spans once `missing` (run after each span ends) finds nothing missing;
 * rejects naming what is still missing when no span has ended for `quietMs`.
 */
export function waitForSpans(missing: (spans: ReadableSpan[]) => string[], quietMs = 5_000): Promise<ReadableSpan[]> {
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const check = () => {
      const spans = spanExporter.getFinishedSpans();
      const still = missing(spans);
      clearTimeout(timer);
      if (still.length === 0) {
        ended.delete(check);
        return resolve(spans);
      }
      timer = setTimeout(() => {
        ended.delete(check);
        reject(new Error(`no span ended for ${quietMs} ms; still missing: ${still.join('; ')}`));
      }, quietMs);
    };
    ended.add(check);
    check();
  });
}
