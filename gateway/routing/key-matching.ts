import { normaliseCode } from '../../lib/identity-code/identity-code.js';
import { rootLogger } from '../../lib/logging/logger.js';
import type { RequestContext } from '../../lib/server/request-context.js';

/** Response names the gateway adds to what it asks a registry, and strips from the answer. */
export const KEY_ALIAS = '__gatewayKey';
export const TYPE_ALIAS = '__gatewayType';

/** The reason clients read when a registry's answer is not about the key they asked for. */
export const MISMATCH_REASON = 'its answer did not match the key asked';

export interface KeyMatch {
  /** For each key asked: its entry, aliases stripped; null where there is none or it is untrusted. */
  values: unknown[];
  /** Keys asked whose entry is missing, mismatched or ambiguous: null plus REGISTRY_UNAVAILABLE. */
  untrusted: number[];
  /** For each position of the answer, the key asked it was placed at (to place errors too). */
  placeOf: (number | undefined)[];
  /** What was wrong, for the log; null for an answer in order. */
  problem: string | null;
}

/** Keys are compared as the registry would write them: codes and countries in canonical form. */
export function comparableKey(value: unknown): string | null {
  return typeof value === 'string' ? normaliseCode(value) : null;
}

/**
 * Matches a registry's list answer to the keys asked. An answer in order (null, or the key asked, at
 * every position) is taken as is. Anything else is placed by key, never by position: a reordered
 * answer is accepted when each key asked n times is answered exactly n times, because an entry's key
 * says whose data it is (a robot's facts can then never land on another robot). Entries that match no
 * key asked, or a key answered the wrong number of times, are dropped. A null entry is "not
 * registered" only when it can be attributed: the answer has one entry per key and nothing was dropped;
 * otherwise every key left without an entry is untrusted.
 */
export function matchByKey(expected: (string | null)[], received: unknown[], keyOf: (entry: Record<string, unknown>) => string | null): KeyMatch {
  const keys = received.map((entry) => (entry === null ? null : isRecord(entry) ? keyOf(entry) : undefined));
  const inOrder = received.length === expected.length && keys.every((key, j) => received[j] === null || (key != null && key === expected[j]));
  if (inOrder) return { values: received.map(stripKeys), untrusted: [], placeOf: received.map((_, j) => j), problem: null };

  const asked = new Map<string, number[]>();
  expected.forEach((key, i) => key !== null && asked.set(key, [...(asked.get(key) ?? []), i]));
  const answered = new Map<string, number[]>();
  let dropped = 0;
  keys.forEach((key, j) => {
    if (received[j] === null) return;
    if (key == null || !asked.has(key)) return void dropped++;
    answered.set(key, [...(answered.get(key) ?? []), j]);
  });

  const values: unknown[] = new Array(expected.length).fill(null);
  const placeOf: (number | undefined)[] = new Array(received.length).fill(undefined);
  const placed = new Set<number>();
  for (const [key, positions] of answered) {
    const at = asked.get(key)!;
    if (positions.length !== at.length) {
      dropped += positions.length;
      continue;
    }
    // The same key asked twice is the same entity: its entries are placed in the order they came.
    positions.forEach((j, n) => {
      values[at[n]!] = stripKeys(received[j]);
      placeOf[j] = at[n]!;
      placed.add(at[n]!);
    });
  }
  const attributable = dropped === 0 && received.length === expected.length;
  const untrusted = attributable ? [] : expected.map((_, i) => i).filter((i) => !placed.has(i));
  const problem = attributable
    ? 'answered in another order (matched by key)'
    : [
        received.length !== expected.length ? `answered ${received.length} entries for ${expected.length} keys` : '',
        dropped ? `${dropped} entries matched no key asked (or a key answered too often)` : '',
      ].filter(Boolean).join('; ');
  return { values, untrusted, placeOf, problem };
}

/**
 * One log line per registry answer that was not in order, with the registry's name: a warning when
 * items were lost to it, information when a reordered answer was put back by key.
 */
export function reportMismatch(options: { context?: unknown }, registry: { name: string }, subgraph: string, matches: KeyMatch[]): void {
  const problems = matches.flatMap((m) => (m.problem ? [m.problem] : []));
  if (!problems.length) return;
  const log = (options.context as Partial<RequestContext> | undefined)?.log ?? rootLogger();
  const untrusted = matches.reduce((n, m) => n + m.untrusted.length, 0);
  const details = { registry: registry.name, subgraph, problem: problems.join('; '), untrusted };
  if (untrusted) log.warn(details, `registry "${registry.name}" (${subgraph}) answered entries that did not match the keys asked`);
  else log.info(details, `registry "${registry.name}" (${subgraph}) answered out of order; matched by key`);
}

/** Removes the gateway's own aliases before an entry goes on to the query planner. */
function stripKeys(entry: unknown): unknown {
  if (!isRecord(entry)) return entry;
  const { [KEY_ALIAS]: _key, [TYPE_ALIAS]: _type, ...rest } = entry;
  return rest;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
