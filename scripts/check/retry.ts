/**
 * When to try again, and how long to wait: exponential backoff with full jitter for failures, the
 * server's Retry-After for rate limits. Clock, sleep and randomness are injected so tests never wait.
 */

export interface RetryPolicy {
  /** Further attempts after a failed one (network error, 5xx, a garbled answer); also re-sends of REGISTRY_UNAVAILABLE items. */
  retries: number;
  /** First backoff step; doubles with each attempt, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Rate-limit refusals (429) are flow control, not failure: waited out this many times per chunk at most. */
  maxRateLimitWaits: number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  now: () => number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  retries: 4,
  baseDelayMs: 500,
  maxDelayMs: 15_000,
  maxRateLimitWaits: 100,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
  now: Date.now,
};

/** "Full jitter": a random wait up to base * 2^attempt (attempt 0 is the first retry), so clients spread out. */
export function backoffDelay(attempt: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs' | 'random'>): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.round(policy.random() * ceiling);
}

// A Retry-After further away than this is not believed (a broken proxy); the backoff applies instead.
const MAX_RETRY_AFTER_MS = 10 * 60_000;

/** Retry-After in milliseconds: delay-seconds or an HTTP date (RFC 9110); null when absent or unusable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (value === null) return null;
  const text = value.trim();
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text) - now;
  if (!Number.isFinite(ms)) return null;
  const clamped = Math.max(0, ms);
  return clamped > MAX_RETRY_AFTER_MS ? null : clamped;
}

/**
 * One wait shared by every worker: after a 429 nobody sends until the window has passed, since the
 * gateway charges refused requests too and hammering on would only push the window further.
 */
export class PauseGate {
  private until = 0;

  constructor(private readonly policy: Pick<RetryPolicy, 'sleep' | 'now'>) {}

  pause(ms: number): void {
    this.until = Math.max(this.until, this.policy.now() + ms);
  }

  /** Milliseconds left of the current pause (0: none). */
  remaining(): number {
    return Math.max(0, this.until - this.policy.now());
  }

  async wait(): Promise<void> {
    for (let left = this.remaining(); left > 0; left = this.remaining()) await this.policy.sleep(left);
  }
}
