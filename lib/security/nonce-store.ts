import { Redis } from 'ioredis';

/**
 * Remembers the nonces of accepted requests for as long as their timestamp is acceptable, so a
 * captured request cannot be sent twice. Replicas of a subgraph share one store (Redis) to agree.
 */
export interface NonceStore {
  /** True when the nonce was new and is now taken for `ttlMs`; false when it was seen already. */
  claim(nonce: string, ttlMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/** One process's memory: enough for a node whose subgraphs run in one process and are not replicated. */
export function memoryNonceStore(now: () => number = Date.now): NonceStore {
  const seen = new Map<string, number>();
  let nextSweep = 0;
  return {
    async claim(nonce, ttlMs) {
      const t = now();
      // Sweep at most once a second: entries expire with the acceptance window.
      if (t >= nextSweep) {
        for (const [key, expires] of seen) if (expires <= t) seen.delete(key);
        nextSweep = t + 1_000;
      }
      const expires = seen.get(nonce);
      if (expires !== undefined && expires > t) return false;
      seen.set(nonce, t + ttlMs);
      return true;
    },
    async close() {
      seen.clear();
    },
  };
}

/** SET key NX PX: atomic, and Redis expires the entry itself. */
export function redisNonceStore(url: string, prefix = 'registry:nonce:'): NonceStore {
  // A replay check that waits for a reconnect would hold the request; fail fast instead (answered 503).
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined); // failures surface on each claim; the client reconnects by itself
  return {
    async claim(nonce, ttlMs) {
      const answer = await redis.set(prefix + nonce, '1', 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX');
      return answer === 'OK';
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** Redis when REDIS_URL is set (replicas agree), otherwise this process's memory. */
export function nonceStoreFromEnv(env: NodeJS.ProcessEnv = process.env): NonceStore {
  return env.REDIS_URL ? redisNonceStore(env.REDIS_URL, env.REDIS_NONCE_PREFIX ?? 'registry:nonce:') : memoryNonceStore();
}
