/** Per-registry isolation limits; every field has a default so a directory entry may omit them. */
export interface RegistryLimits {
  /** A fetch that takes longer is abandoned and its items answered REGISTRY_UNAVAILABLE. */
  readonly timeoutMs: number;
  /** Fetches in flight towards this registry at once; more wait in a queue of maxQueued, then are refused. */
  readonly maxConcurrent: number;
  readonly maxQueued: number;
  /** Consecutive failures that open the circuit; while open, fetches fail at once instead of waiting. */
  readonly breakAfterFailures: number;
  /** How long the circuit stays open before one trial fetch is let through. */
  readonly halfOpenAfterMs: number;
}

export const DEFAULT_LIMITS: RegistryLimits = Object.freeze({
  timeoutMs: 5_000,
  maxConcurrent: 64,
  maxQueued: 256,
  breakAfterFailures: 5,
  halfOpenAfterMs: 10_000,
});

/** The `limits` object of a directory entry, defaults filled in; problems are appended to `problems`. */
export function readLimits(raw: unknown, where: string, problems: string[]): RegistryLimits {
  const limits: Record<string, number> = { ...DEFAULT_LIMITS };
  if (raw === undefined || raw === null) return Object.freeze(limits as unknown as RegistryLimits);
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    if (!(key in DEFAULT_LIMITS)) problems.push(`${where}.${key} is not a known limit (${Object.keys(DEFAULT_LIMITS).join(', ')})`);
    else if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 600_000) problems.push(`${where}.${key} must be an integer from 1 to 600000`);
    else limits[key] = value;
  }
  return Object.freeze(limits as unknown as RegistryLimits);
}

export function sameLimits(a: RegistryLimits, b: RegistryLimits): boolean {
  return (Object.keys(DEFAULT_LIMITS) as (keyof RegistryLimits)[]).every((k) => a[k] === b[k]);
}
