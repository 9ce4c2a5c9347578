import { formatCode, parseCode, type CodeKind, type CodeProblem } from '../../lib/identity-code/identity-code.js';
import type { DataSubgraphName } from '../../lib/schema/contract.js';
import type { Send } from './behaviour.js';
import { ask, codeOf, errorsOf, shown, shownErrors, type Findings, type GraphQLErrorLike } from './findings.js';
import { ownSamples } from './samples.js';

/**
 * The root fields that take codes (docs/partner-contract.md, "Root fields"): keys echoed, null for an
 * unknown or foreign code without an error, `units(codes:)` in order with an error per malformed item,
 * at most 1,000 codes, and MALFORMED_CODE with exactly the problems our own parser finds.
 */
const ROOT_FIELDS: Record<DataSubgraphName, { field: string; kind: CodeKind }[]> = {
  units: [{ field: 'unit', kind: 'unit' }],
  enterprises: [{ field: 'enterprise', kind: 'enterprise' }],
  'product-models': [{ field: 'productModel', kind: 'productModel' }],
  lifecycle: [],
};

const LENGTH: Record<CodeKind, number> = { unit: 29, enterprise: 6, productModel: 12 };
const MAX_CODES = 1000;

const unknownOwn = (country: string, length: number) => (country + 'Z'.repeat(length)).slice(0, length);
const foreignOf = (country: string) => (country === 'QQ' ? 'QZ' : 'QQ');

/** A code as a client may type it: lower case, hyphens and spaces (normalises to the canonical code). */
export function typedForm(canonical: string): string {
  return ` ${formatCode(canonical).toLowerCase()} `;
}

/**
 * Malformed inputs for a field of `length` characters: too long, too short, and bad characters (one
 * non-ASCII letter, an emoji, then an ASCII one: the last one's position tells UTF-16 units from code points).
 */
export function malformedInputs(country: string, length: number): string[] {
  return [country + 'A'.repeat(length), country + '12', `${country}é😀_${'A'.repeat(Math.max(1, length - 5))}`];
}

const problemList = (problems: readonly { kind?: unknown; position?: unknown }[]) =>
  problems.length ? problems.map((p) => (p.position == null ? String(p.kind) : `${String(p.kind)}@${String(p.position)}`)).join(', ') : 'none';

export async function rootFieldFindings(subgraph: DataSubgraphName, country: string, send: Send): Promise<Findings> {
  const problems: string[] = [];
  const notes: string[] = [];
  const fields = ROOT_FIELDS[subgraph];
  if (fields.length === 0) return { problems, notes };
  const samples = await ownSamples(subgraph, country, send, 3);
  if (samples.unreadable) notes.push(`root fields checked without known codes: ${samples.unreadable}`);

  for (const { field, kind } of fields) {
    const length = LENGTH[kind];
    const query = `query ConformanceRoot($c: ID!) { ${field}(code: $c) { code } }`;
    const single = (code: string) => ask(send, query, { c: code });
    const known = samples.codes[0];
    if (known) {
      const answer = await single(known);
      const got = answer.data?.[field];
      if (got?.code !== known || errorsOf(answer).length) {
        problems.push(`${field}(code: ${shown(known)}): expected the ${kind} with code ${shown(known)}, got ${shown(got ?? null)} (${shownErrors(errorsOf(answer))})`);
      }
      // Codes reach a node as the client typed them (the gateway forwards root-field arguments unchanged).
      const typed = typedForm(known);
      const raw = await single(typed);
      if (raw.data?.[field]?.code !== known || errorsOf(raw).length) {
        problems.push(`${field}(code: ${shown(typed)}): a code as typed (lower case, hyphens, spaces) must answer the ${kind} ${shown(known)}, got ${shown(raw.data?.[field] ?? null)} (${shownErrors(errorsOf(raw))})`);
      }
    } else if (!samples.unreadable) {
      notes.push(`no ${kind === 'productModel' ? 'product model' : kind}s to check ${field}(code:) with: only unknown, foreign and malformed codes were checked`);
    }
    for (const [code, what] of [
      [unknownOwn(country, length), 'an unknown code of its country'],
      [unknownOwn(foreignOf(country), length), 'a well-formed code of another country'],
      [typedForm(unknownOwn(country, length)), 'an unknown code typed in lower case with separators (normalises to a well-formed code)'],
    ] as const) {
      const answer = await single(code);
      if (answer.data?.[field] !== null || errorsOf(answer).length) {
        problems.push(`${field}(code: ${shown(code)}), ${what}: expected null and no error, got ${shown(answer.data?.[field])} (${shownErrors(errorsOf(answer))})`);
      }
    }
    for (const input of malformedInputs(country, length)) {
      const answer = await single(input);
      const problem = malformedProblem(`${field}(code: ${shown(input)})`, input, kind, answer.data?.[field], errorsOf(answer));
      if (problem) problems.push(problem);
    }
  }

  if (subgraph === 'units') problems.push(...(await unitsListProblems(country, samples.codes, send, notes, !samples.unreadable)));
  return { problems, notes };
}

/**
 * What is wrong with an answer to a malformed code, or null: null data, one MALFORMED_CODE error whose
 * `input` is the input cut to 64 characters and whose `problems` are our parser's, kind by kind and position by position.
 */
export function malformedProblem(what: string, input: string, kind: CodeKind, data: unknown, errors: readonly GraphQLErrorLike[], path?: readonly (string | number)[]): string | null {
  const expected = parseCode(input, { kind }).problems;
  const error = errors.find((e) => (path ? samePath(e.path, path) : true));
  const others = errors.filter((e) => e !== error);
  const want = `MALFORMED_CODE with input ${shown(input.slice(0, 64))} and problems [${problemList(expected)}]`;
  if (!error || codeOf(error) !== 'MALFORMED_CODE') return `${what}: expected ${want}${path ? ` at path ${shown(path)}` : ''}, got ${shownErrors(errors)}`;
  const ext = error.extensions ?? {};
  const got = Array.isArray(ext.problems) ? (ext.problems as { kind?: unknown; position?: unknown; message?: unknown }[]) : null;
  const faults: string[] = [];
  if (data !== null) faults.push(`data ${shown(data)} instead of null`);
  if (others.length && !path) faults.push(`other errors too (${shownErrors(others)})`);
  if (ext.input !== input.slice(0, 64)) faults.push(`extensions.input ${shown(ext.input)}`);
  if (!got) faults.push(`extensions.problems ${shown(ext.problems)}`);
  else if (!sameProblems(got, expected)) faults.push(`extensions.problems [${problemList(got)}]`);
  else if (got.some((p) => typeof p.message !== 'string' || !p.message)) faults.push('a problem without a message');
  if (typeof error.message !== 'string' || !error.message) faults.push('no error message');
  return faults.length ? `${what}: expected ${want}, got ${faults.join(', ')}` : null;
}

function sameProblems(got: readonly { kind?: unknown; position?: unknown }[], expected: readonly CodeProblem[]): boolean {
  return got.length === expected.length && got.every((p, i) => p.kind === expected[i]!.kind && (p.position ?? null) === expected[i]!.position);
}

function samePath(a: readonly (string | number)[] | undefined, b: readonly (string | number)[]): boolean {
  return !!a && a.length === b.length && a.every((x, i) => x === b[i]);
}

async function unitsListProblems(country: string, known: readonly string[], send: Send, notes: string[], listed: boolean): Promise<string[]> {
  const problems: string[] = [];
  const malformed = `${country}NOT-A-CODE`;
  const cases: { code: string; expect: string | null | 'malformed' }[] = [
    ...(known[1] ? [{ code: known[1], expect: known[1] }] : []),
    { code: unknownOwn(country, 29), expect: null },
    { code: malformed, expect: 'malformed' },
    ...(known[0] ? [{ code: known[0], expect: known[0] }] : []),
    { code: unknownOwn(foreignOf(country), 29), expect: null },
    // As a client typed it: the gateway passes list items on unchanged too.
    ...(known[0] ? [{ code: typedForm(known[0]), expect: known[0] }] : []),
  ];
  if (known.length < 2 && listed) notes.push(known.length ? 'only one unit to check units(codes:) order with' : 'no units to check order with');
  const codes = cases.map((c) => c.code);
  const what = `units(codes: ${shown(codes, 400)})`;
  const answer = await ask(send, 'query ConformanceUnits($c: [ID!]!) { units(codes: $c) { code } }', { c: codes });
  const list = answer.data?.units;
  const errors = errorsOf(answer);
  if (!Array.isArray(list) || list.length !== codes.length) {
    problems.push(`${what}: expected a list of ${codes.length} entries, got ${Array.isArray(list) ? `${list.length} entries` : shown(list ?? null)} (${shownErrors(errors)})`);
  } else {
    cases.forEach((c, i) => {
      const got = list[i];
      if (c.expect === 'malformed') return;
      if (c.expect === null && got !== null) problems.push(`${what}: index ${i} (${shown(c.code)}, ${c.code.startsWith(country) ? 'unknown' : 'another country'}): expected null, got ${shown(got)}`);
      if (typeof c.expect === 'string' && got?.code !== c.expect) problems.push(`${what}: index ${i}: expected the unit ${shown(c.expect)} (same order as asked), got ${shown(got ?? null)}`);
    });
  }
  const at = cases.findIndex((c) => c.expect === 'malformed');
  const problem = malformedProblem(`${what}: index ${at}`, malformed, 'unit', Array.isArray(list) ? list[at] : null, errors, ['units', at]);
  if (problem) problems.push(problem);
  const stray = errors.filter((e) => !samePath(e.path, ['units', at]));
  if (stray.length) problems.push(`${what}: expected one error, at ["units",${at}], got also ${shownErrors(stray)}`);

  const many = Array.from({ length: MAX_CODES + 1 }, (_, i) => `${country}ZZZZZZZZZZ${String(i).padStart(17, '0')}`);
  const tooMany = await ask(send, 'query ConformanceTooMany($c: [ID!]!) { units(codes: $c) { code } }', { c: many });
  const limitErrors = errorsOf(tooMany);
  if (limitErrors.length !== 1 || codeOf(limitErrors[0]) !== 'LIMIT_EXCEEDED' || limitErrors[0]!.extensions?.max !== MAX_CODES) {
    problems.push(`units(codes: [${MAX_CODES + 1} codes]): expected one error LIMIT_EXCEEDED with extensions.max ${MAX_CODES}, got ${shownErrors(limitErrors)}${limitErrors[0] ? ` (extensions ${shown(limitErrors[0].extensions)})` : ''}`);
  }
  return problems;
}
