import {
  BrokenCircuitError,
  BulkheadRejectedError,
  CircuitState,
  ConsecutiveBreaker,
  TaskCancelledError,
  TimeoutStrategy,
  bulkhead,
  circuitBreaker,
  handleAll,
  timeout,
  wrap,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import type { RegistryLimits } from '../directory/registry-limits.js';

export type CircuitStatus = 'closed' | 'open' | 'half-open';

/** Why a guarded call did not produce an answer, in words fit for a client. */
export class GuardRejection extends Error {}

/**
 * Timeout, circuit breaker and bulkhead around one registry, from cockatiel (a small, well-kept
 * library; resilience policies are easy to get subtly wrong by hand). One slow or dead partner then
 * costs its own items, within its own timeout, and never the other registries' capacity.
 */
export class RegistryGuard {
  private readonly breaker: CircuitBreakerPolicy;
  private readonly policy;

  constructor(readonly limits: RegistryLimits) {
    this.breaker = circuitBreaker(handleAll, {
      halfOpenAfter: limits.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(limits.breakAfterFailures),
    });
    this.policy = wrap(
      bulkhead(limits.maxConcurrent, limits.maxQueued),
      this.breaker,
      timeout(limits.timeoutMs, TimeoutStrategy.Aggressive),
    );
  }

  get circuit(): CircuitStatus {
    switch (this.breaker.state) {
      case CircuitState.Closed:
        return 'closed';
      case CircuitState.HalfOpen:
        return 'half-open';
      default:
        return 'open';
    }
  }

  /** Runs `call` with an abort signal that fires at the timeout; failures feed the breaker. */
  async execute<T>(call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      // A signal of our own per call: cockatiel otherwise hangs every call's listener on one shared signal.
      return await this.policy.execute(({ signal }) => call(signal), new AbortController().signal);
    } catch (error) {
      if (error instanceof BrokenCircuitError) throw new GuardRejection('circuit open after repeated failures');
      if (error instanceof BulkheadRejectedError) throw new GuardRejection('too many requests in flight');
      if (error instanceof TaskCancelledError) throw new GuardRejection(`no answer within ${this.limits.timeoutMs} ms`);
      throw error;
    }
  }
}
