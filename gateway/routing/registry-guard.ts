import {
  BrokenCircuitError,
  BulkheadPolicy,
  BulkheadRejectedError,
  CircuitState,
  ConsecutiveBreaker,
  bulkhead,
  circuitBreaker,
  handleAll,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import { EventEmitter } from 'node:events';
import type { RegistryLimits } from '../directory/registry-limits.js';

export type CircuitStatus = 'closed' | 'open' | 'half-open';

/** Why a guarded call did not produce an answer, in words fit for a client. */
export class GuardRejection extends Error {}

/**
 * Fires 'abort' (with `reason`) when a guarded call's deadline passes. An EventEmitter, which undici's
 * `request` accepts as its signal: far cheaper than an AbortController with its EventTarget, AbortSignal
 * and DOMException, which cost a measurable share of the gateway's CPU when made for every call.
 */
export class DeadlineSignal extends EventEmitter {
  aborted = false;
  reason: Error | undefined;
}

/**
 * Deadline, circuit breaker and bulkhead around one registry (breaker and bulkhead from cockatiel). One
 * slow or dead partner then costs its own items, within its own timeout, and never the other registries'
 * capacity. The deadline covers the whole wait, queue included; while a half-open trial is in flight the
 * other calls are refused at once (cockatiel would make them wait for the trial, then run: twice the timeout).
 */
export class RegistryGuard {
  private readonly breaker: CircuitBreakerPolicy;
  private readonly bulkhead: BulkheadPolicy;

  constructor(readonly limits: RegistryLimits) {
    this.breaker = circuitBreaker(handleAll, {
      halfOpenAfter: limits.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(limits.breakAfterFailures),
    });
    this.bulkhead = bulkhead(limits.maxConcurrent, limits.maxQueued);
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

  /**
   * Runs `call` with a signal that fires at the registry's timeoutMs: the caller has its answer or a
   * GuardRejection by then, whatever the registry does, queue and breaker included. A call whose
   * deadline passed while it was queued is not sent at all.
   */
  async execute<T>(call: (signal: DeadlineSignal) => Promise<T>): Promise<T> {
    const signal = new DeadlineSignal();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // Made only when needed: an Error captures a stack trace, which is not free on every call.
        const late = new GuardRejection(`no answer within ${this.limits.timeoutMs} ms`);
        signal.aborted = true;
        signal.reason = late;
        signal.emit('abort');
        reject(late);
      }, this.limits.timeoutMs);
    });
    try {
      return await Promise.race([this.run(call, signal), deadline]);
    } catch (error) {
      if (error instanceof BrokenCircuitError) throw new GuardRejection('circuit open after repeated failures');
      if (error instanceof BulkheadRejectedError) throw new GuardRejection('too many requests in flight');
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  private run<T>(call: (signal: DeadlineSignal) => Promise<T>, signal: DeadlineSignal): Promise<T> {
    return this.bulkhead.execute(() => {
      if (signal.aborted) throw signal.reason!;
      // Checked when the call leaves the queue, right before the breaker would park it behind the trial.
      if (this.breaker.state === CircuitState.HalfOpen) {
        throw new GuardRejection('circuit half-open: a trial request is testing the registry');
      }
      return this.breaker.execute(() => call(signal));
    });
  }
}
