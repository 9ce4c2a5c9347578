import { parseCode } from '../../lib/identity-code/identity-code.js';
import { dedupeKey, type Outcome } from './chunked-check.js';
import { formatCsvRecord } from './csv.js';
import type { Registry, Verdict } from './gateway-client.js';
import type { ManifestEntry } from './manifest-reader.js';

/**
 * One output row per manifest entry, in manifest order, and the two ways of writing them: CSV (reasons as
 * `;`-separated codes) and JSON (reasons with their messages).
 */

/** FAILED: no answer could be had for the code (the reason says why); not a verdict of the registry. */
export type RowVerdict = Verdict | 'FAILED';

export interface VerdictRow {
  line: number;
  input: string;
  /** Canonical code; empty when malformed. */
  code: string;
  verdict: RowVerdict;
  reasons: { code: string; message: string }[];
  /** The registry that answered; null when none did (malformed, unknown country, unavailable, failed). */
  registry: Registry | null;
}

// Reasons that mean no registry gave the facts behind the verdict.
const UNANSWERED = new Set(['MALFORMED_CODE', 'UNKNOWN_COUNTRY', 'REGISTRY_UNAVAILABLE']);

/**
 * `registries` names the registry for gateways without `Verification.answeredBy`: the one serving the
 * code's country segment, when the verdict rests on its facts.
 */
export function buildRows(entries: readonly ManifestEntry[], outcomes: Map<string, Outcome>, registries: readonly Registry[]): VerdictRow[] {
  const byCountry = new Map(registries.map((r) => [r.country, r]));
  return entries.map(({ line, input }) => {
    const outcome = outcomes.get(dedupeKey(input));
    if (!outcome) throw new Error(`no outcome for line ${line}`); // a bug: every key was checked
    if (outcome.kind === 'failed') {
      return { line, input, code: parseCode(input).canonical ?? '', verdict: 'FAILED', reasons: [outcome.problem], registry: null };
    }
    const v = outcome.verification;
    const answered = !v.reasons.some((r) => UNANSWERED.has(r.code));
    const registry = v.answeredBy ?? (answered && v.canonical ? byCountry.get(v.canonical.slice(0, 2)) ?? null : null);
    return { line, input, code: v.canonical ?? '', verdict: v.verdict, reasons: v.reasons, registry };
  });
}

export const CSV_HEADER = ['line', 'input', 'code', 'verdict', 'reasons', 'registry', 'registry_name'];

export function formatCsv(rows: readonly VerdictRow[]): string {
  const lines = [formatCsvRecord(CSV_HEADER)];
  for (const r of rows) {
    lines.push(formatCsvRecord([String(r.line), r.input, r.code, r.verdict, r.reasons.map((x) => x.code).join(';'), r.registry?.country ?? '', r.registry?.name ?? '']));
  }
  return `${lines.join('\r\n')}\r\n`;
}

export function formatJson(rows: readonly VerdictRow[]): string {
  return `[\n${rows.map((r) => `  ${JSON.stringify(r)}`).join(',\n')}\n]\n`;
}
