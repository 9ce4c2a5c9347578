import { readFileSync } from 'node:fs';
import { MAX_CODES_PER_REQUEST, MAX_ITEMS_PER_FIELD } from '../../lib/limits/request-limits.js';

/**
 * Every number the gateway's abuse limits use, in one place (docs/limits.md lists them). The request-level
 * constants shared with the subgraphs stay in lib/limits/request-limits.ts and are re-exported here.
 */
export { MAX_CODES_PER_REQUEST, MAX_ITEMS_PER_FIELD };

export interface RateLimit {
  /** Points a caller may spend per window; a request costs 1 per code it names (at least 1). */
  points: number;
  windowSeconds: number;
}

export interface LimitsConfig {
  /** Lexical tokens in one query document (parsing stops at this many). */
  maxTokens: number;
  /** Field nesting depth of an operation (`edges { node { ... } }` counts two levels). */
  maxDepth: number;
  /** Aliased fields in one operation (`__typename` aliases are free). */
  maxAliases: number;
  /** Directives in one operation. */
  maxDirectives: number;
  /** Estimated rows one request may fetch, every field's list sizes multiplied through its nesting. */
  maxCost: number;
  /** Items any one field may reach once multiplied (the subgraphs cap `_entities` at the same number). */
  maxItemsPerField: number;
  /** Codes one request may carry, across all fields and aliases. */
  maxCodesPerRequest: number;
  /** Callers without a credential, per client address: strict. */
  anonymousRate: RateLimit;
  /** Callers with a credential, per subject. */
  subjectRate: RateLimit;
  /** Named subjects with more points per window (a benchmark's key); only ever from configuration. */
  subjectPoints: Record<string, number>;
  /** Requests one caller (subject, else address) may have in flight at the gateway; more are refused. */
  maxInFlightPerCaller: number;
  /** Hide introspection and "Did you mean" suggestions from anonymous callers (default: NODE_ENV=production). */
  hideSchemaFromAnonymous: boolean;
  /** Redis for shared rate-limit counters across gateway processes; in-process counters when absent. */
  redisUrl?: string;
  /** Prefix of the rate-limit keys (in Redis, shared by every gateway of one deployment). */
  keyPrefix: string;
}

export const DEFAULT_LIMITS_CONFIG: LimitsConfig = {
  maxTokens: 5_000,
  maxDepth: 14,
  maxAliases: 30,
  maxDirectives: 50,
  maxCost: 10_000,
  maxItemsPerField: MAX_ITEMS_PER_FIELD,
  maxCodesPerRequest: MAX_CODES_PER_REQUEST,
  anonymousRate: { points: 3_000, windowSeconds: 60 },
  subjectRate: { points: 30_000, windowSeconds: 60 },
  subjectPoints: {},
  maxInFlightPerCaller: 8,
  hideSchemaFromAnonymous: false,
  keyPrefix: 'gateway-rate',
};

/**
 * The defaults plus the environment: REDIS_URL, NODE_ENV=production (schema hidden from anonymous callers)
 * and GATEWAY_SUBJECT_POINTS_FILE, a JSON file `{ "subject": points, ... }` naming credentials allowed more
 * points per window (never derived from a request, so production cannot reach it by accident).
 */
export function limitsConfigFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: Partial<LimitsConfig> = {}): LimitsConfig {
  const file = env.GATEWAY_SUBJECT_POINTS_FILE;
  const subjectPoints = file ? parseSubjectPoints(readFileSync(file, 'utf8'), file) : {};
  return {
    ...DEFAULT_LIMITS_CONFIG,
    hideSchemaFromAnonymous: env.NODE_ENV === 'production',
    ...(env.REDIS_URL ? { redisUrl: env.REDIS_URL } : {}),
    ...overrides,
    subjectPoints: { ...subjectPoints, ...overrides.subjectPoints },
  };
}

export function parseSubjectPoints(text: string, source: string): Record<string, number> {
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${source}: expected an object of subject -> points`);
  for (const [subject, points] of Object.entries(parsed)) {
    if (!Number.isSafeInteger(points) || (points as number) < 1) throw new Error(`${source}: points of "${subject}" must be a positive integer`);
  }
  return parsed as Record<string, number>;
}
