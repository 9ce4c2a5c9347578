import { count } from './progress.js';
import type { RowVerdict, VerdictRow } from './verdict-rows.js';

/** What the run found, counted by verdict and by reason, and the exit code it earns. */

export const EXIT = {
  ALL_ADMIT: 0,
  SOME_REFUSE: 1,
  /** Some code is UNKNOWN or FAILED (or the gateway could not be used at all). */
  SOME_UNKNOWN: 2,
  /** EX_USAGE (sysexits.h): a bad flag, an unreadable file, a manifest that does not parse, no such column. */
  USAGE: 64,
} as const;

export function exitCodeFor(rows: readonly VerdictRow[]): number {
  if (rows.some((r) => r.verdict === 'UNKNOWN' || r.verdict === 'FAILED')) return EXIT.SOME_UNKNOWN;
  if (rows.some((r) => r.verdict === 'REFUSE')) return EXIT.SOME_REFUSE;
  return EXIT.ALL_ADMIT;
}

const VERDICT_ORDER: RowVerdict[] = ['ADMIT', 'REFUSE', 'UNKNOWN', 'FAILED'];

export function formatSummary(rows: readonly VerdictRow[], distinctCodes: number, elapsedMs: number): string {
  const byVerdict = new Map<RowVerdict, VerdictRow[]>(VERDICT_ORDER.map((v) => [v, []]));
  for (const row of rows) byVerdict.get(row.verdict)!.push(row);
  const seconds = elapsedMs / 1000;
  const lines = [
    `checked ${count(rows.length)} codes (${count(distinctCodes)} distinct) in ${seconds.toFixed(1)} s, ${count(Math.round(seconds > 0 ? rows.length / seconds : rows.length))} codes/s`,
  ];
  for (const [verdict, inVerdict] of byVerdict) {
    const reasons = new Map<string, number>();
    for (const row of inVerdict) for (const reason of new Set(row.reasons.map((r) => r.code))) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    const detail = [...reasons].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([code, n]) => `${code} ${count(n)}`).join(', ');
    lines.push(`  ${verdict.padEnd(8)}${count(inVerdict.length).padStart(9)}${detail ? `   ${detail}` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

export function exitMeaning(code: number): string {
  switch (code) {
    case EXIT.ALL_ADMIT:
      return 'every code is ADMIT';
    case EXIT.SOME_REFUSE:
      return 'some codes are REFUSE';
    default:
      return 'some codes are UNKNOWN or could not be checked (FAILED)';
  }
}
