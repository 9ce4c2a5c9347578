import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { limitError } from './limit-error.js';
import type { LimitsConfig, RateLimit } from './limits-config.js';

/** Who a request is charged to: its credential when it has one, else the address it came from. */
export interface CallerKey {
  subject: string | null;
  address: string;
}

/**
 * Points per window per caller (rate-limiter-flexible): anonymous callers per client address on a strict
 * budget, credentials per subject, and subjects named in configuration with their own budget. A request
 * spends a point per code it names, so a 1,000-code verifyMany spends a thousand verifies' worth.
 * Counters live in Redis when configured (shared by every gateway process), in memory otherwise; when
 * Redis fails, the in-memory counters take over rather than letting everything through.
 */
export class CallerRateLimiter {
  private readonly limiters = new Map<string, RateLimiterAbstract>();
  private readonly redis: Redis | null;

  constructor(private readonly config: Pick<LimitsConfig, 'anonymousRate' | 'subjectRate' | 'subjectPoints' | 'redisUrl' | 'keyPrefix'>) {
    this.redis = config.redisUrl ? new Redis(config.redisUrl, { maxRetriesPerRequest: 1 }) : null;
    this.redis?.on('error', () => undefined); // reported by the failing consume, which falls back to memory
  }

  /** Spends `points` for the caller or throws RATE_LIMITED (HTTP 429 with Retry-After). */
  async consume(caller: CallerKey, points: number): Promise<void> {
    const [key, rate] = caller.subject !== null
      ? [`subject:${caller.subject}`, { ...this.config.subjectRate, points: this.config.subjectPoints[caller.subject] ?? this.config.subjectRate.points }]
      : [`address:${caller.address}`, this.config.anonymousRate];
    try {
      await this.limiterFor(rate).consume(key, points);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      const retryAfterSeconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      const who = caller.subject !== null ? `credential "${caller.subject}"` : `anonymous address ${caller.address}`;
      throw limitError(
        'RATE_LIMITED',
        points > rate.points
          ? `this request costs ${points} points, more than the ${rate.points} per ${rate.windowSeconds} s allowed to ${who}`
          : `rate limit of ${rate.points} points per ${rate.windowSeconds} s reached for ${who}; retry in ${retryAfterSeconds} s`,
        { max: rate.points, actual: points, windowSeconds: rate.windowSeconds, retryAfterSeconds },
        { status: 429, retryAfterSeconds },
      );
    }
  }

  private limiterFor(rate: RateLimit): RateLimiterAbstract {
    const id = `${rate.points}/${rate.windowSeconds}`;
    let limiter = this.limiters.get(id);
    if (!limiter) {
      const options = { points: rate.points, duration: rate.windowSeconds, keyPrefix: `${this.config.keyPrefix}:${id}` };
      const memory = new RateLimiterMemory(options);
      limiter = this.redis ? new RateLimiterRedis({ ...options, storeClient: this.redis, insuranceLimiter: memory }) : memory;
      this.limiters.set(id, limiter);
    }
    return limiter;
  }

  async close(): Promise<void> {
    if (this.redis) await this.redis.quit().catch(() => this.redis?.disconnect());
  }
}
