import { limitError } from './limit-error.js';

/**
 * Each caller's share of the gateway: at most `max` of its requests in flight at once; more are refused
 * (429 TOO_MANY_IN_FLIGHT) rather than queued, so one caller's burst cannot fill the registries' bulkheads
 * and trip their circuit breakers for everyone else.
 */
export class CallerConcurrency {
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** Takes a slot for `caller` and returns its release (idempotent), or throws TOO_MANY_IN_FLIGHT. */
  acquire(caller: string): () => void {
    const now = this.inFlight.get(caller) ?? 0;
    if (now >= this.max) {
      throw limitError(
        'TOO_MANY_IN_FLIGHT',
        `${now} requests of this caller are already in flight (at most ${this.max}); wait for an answer before sending more`,
        { max: this.max, actual: now + 1 },
        { status: 429, retryAfterSeconds: 1 },
      );
    }
    this.inFlight.set(caller, now + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.inFlight.get(caller) ?? 1) - 1;
      if (left > 0) this.inFlight.set(caller, left);
      else this.inFlight.delete(caller);
    };
  }
}
