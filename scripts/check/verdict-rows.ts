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
  /**
   * The registry that owns the code's country and was asked for the facts (as `Verification.answeredBy`:
   * also when it could not answer); null for a malformed code, a country no registry serves, a FAILED row.
   */
  registry: Registry | null;
}

// Reasons that mean no registry was asked.
const NO_REGISTRY = new Set(['MALFORMED_CODE', 'UNKNOWN_COUNTRY']);

/**
 * `registries` names the registry for gateways without `Verification.answeredBy`: the one serving the
 * code's country segment, the same one answeredBy names.
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
    const asked = !v.reasons.some((r) => NO_REGISTRY.has(r.code));
    const registry = v.answeredBy ?? (asked && v.canonical ? byCountry.get(v.canonical.slice(0, 2)) ?? null : null);
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
