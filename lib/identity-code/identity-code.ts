/**
 * Robot identity codes: country (2) + enterprise (4) + product model (6) + serial (17), each character
 * in [0-9A-Z]. Enterprise and product model keys are prefixes of a unit code (first 6 / first 12).
 * No check character is defined, so a typo that stays inside [0-9A-Z] cannot be caught here.
 */

export type CodeKind = 'unit' | 'productModel' | 'enterprise';

export const CODE_LENGTH: Readonly<Record<CodeKind, number>> = Object.freeze({
  unit: 29,
  productModel: 12,
  enterprise: 6,
});

// Segment ends within a unit code; the shorter kinds are its leading segments.
const COUNTRY_END = 2;
const ENTERPRISE_END = 6;
const MODEL_END = 12;

// Longer inputs are refused on length alone, so a hostile megabyte string costs nothing to reject.
const MAX_SCANNED_INPUT = 1000;

export type CodeProblemKind = 'LENGTH' | 'CHARACTER' | 'UNKNOWN_COUNTRY';

export interface CodeProblem {
  kind: CodeProblemKind;
  message: string;
  /** 1-based position (UTF-16 index + 1) in the normalised code; null for LENGTH / UNKNOWN_COUNTRY. */
  position: number | null;
}

export interface ParsedCode {
  input: string;
  valid: boolean;
  /** Only when valid. */
  canonical: string | null;
  display: string | null;
  /** Segments as normalised; set whenever the normalised length fits the kind, even with bad characters. */
  country: string | null;
  enterprise: string | null;
  model: string | null;
  serial: string | null;
  /** Derived keys (first 6 / first 12); same condition as the segments. */
  enterpriseCode: string | null;
  modelCode: string | null;
  problems: CodeProblem[];
}

export interface ParseOptions {
  /** Default 'unit'. */
  kind?: CodeKind;
  /** Which country segments are served is configuration; omitted = every country accepted. */
  isKnownCountry?: (country: string) => boolean;
}

/**
 * Drops all whitespace (which subsumes trimming) and '-', and upper-cases ASCII a-z only:
 * String.toUpperCase would turn 'ß' into 'SS' or 'ı' into 'I', silently changing the code.
 */
export function normaliseCode(input: string): string {
  // Most codes arrive canonical (every key the gateway and the subgraphs pass around): nothing to do.
  if (CANONICAL_CHARS.test(input)) return input;
  return input
    .replace(/[\s-]+/g, '')
    .replace(/[a-z]+/g, (s) => s.toUpperCase());
}

const CANONICAL_CHARS = /^[0-9A-Z]*$/;

/**
 * True when `value` is exactly a canonical code of `kind` (right length, [0-9A-Z] only): what parseCode
 * would accept unchanged, without building its result.
 */
export function isCanonicalCode(value: unknown, kind: CodeKind = 'unit'): value is string {
  return typeof value === 'string' && value.length === CODE_LENGTH[kind] && CANONICAL_CHARS.test(value);
}

export function parseCode(input: string, options: ParseOptions = {}): ParsedCode {
  const kind = options.kind ?? 'unit';
  const expected = CODE_LENGTH[kind];
  if (expected === undefined) throw new TypeError(`unknown code kind ${JSON.stringify(kind)}`);
  const parsed: ParsedCode = {
    input,
    valid: false,
    canonical: null,
    display: null,
    country: null,
    enterprise: null,
    model: null,
    serial: null,
    enterpriseCode: null,
    modelCode: null,
    problems: [],
  };
  const { problems } = parsed;

  if (input.length > MAX_SCANNED_INPUT) {
    problems.push(lengthProblem(expected, input.length));
    return parsed;
  }

  const code = normaliseCode(input);
  if (code.length !== expected) problems.push(lengthProblem(expected, code.length));

  // Iterate by code point so an emoji is one problem, but report UTF-16 positions to agree with lengths.
  let index = 0;
  for (const ch of code) {
    if (!isCodeChar(ch)) {
      problems.push({
        kind: 'CHARACTER',
        message: `invalid character '${visible(ch)}' at position ${index + 1}`,
        position: index + 1,
      });
    }
    index += ch.length;
  }

  const country = code.slice(0, COUNTRY_END);
  if (
    options.isKnownCountry !== undefined &&
    country.length === COUNTRY_END &&
    isCodeChar(country[0] ?? '') &&
    isCodeChar(country[1] ?? '') &&
    !options.isKnownCountry(country)
  ) {
    problems.push({
      kind: 'UNKNOWN_COUNTRY',
      message: `no registry serves country segment "${country}"`,
      position: null,
    });
  }

  if (code.length === expected) {
    parsed.country = country;
    parsed.enterprise = code.slice(COUNTRY_END, ENTERPRISE_END);
    parsed.enterpriseCode = code.slice(0, ENTERPRISE_END);
    if (kind !== 'enterprise') {
      parsed.model = code.slice(ENTERPRISE_END, MODEL_END);
      parsed.modelCode = code.slice(0, MODEL_END);
    }
    if (kind === 'unit') parsed.serial = code.slice(MODEL_END);
  }

  if (problems.length === 0) {
    parsed.valid = true;
    parsed.canonical = code;
    parsed.display = formatCode(code);
  }
  return parsed;
}

/**
 * Display form (`CC-EEEE[-MMMMMM[-SSSSSSSSSSSSSSSSS]]`) of a canonical code. Throws on anything not
 * canonical, so a malformed code never gets a display form that looks legitimate.
 */
export function formatCode(canonical: string): string {
  const length = canonical.length;
  if (length !== CODE_LENGTH.enterprise && length !== CODE_LENGTH.productModel && length !== CODE_LENGTH.unit) {
    throw new RangeError(`cannot format a code of ${length} characters; expected 6, 12 or 29`);
  }
  if (!/^[0-9A-Z]*$/.test(canonical)) {
    throw new RangeError(`cannot format non-canonical code ${JSON.stringify(canonical)}`);
  }
  const parts = [canonical.slice(0, COUNTRY_END), canonical.slice(COUNTRY_END, ENTERPRISE_END)];
  if (length > ENTERPRISE_END) parts.push(canonical.slice(ENTERPRISE_END, MODEL_END));
  if (length > MODEL_END) parts.push(canonical.slice(MODEL_END));
  return parts.join('-');
}

/** First two characters of the normalised code; not validated. */
export function countryOf(code: string): string {
  return normaliseCode(code).slice(0, COUNTRY_END);
}

export class MalformedCodeError extends Error {
  override readonly name = 'MalformedCodeError';
  readonly code: string;
  readonly problems: CodeProblem[];

  constructor(code: string, problems: CodeProblem[]) {
    // The input may be hostile: quote and cap it in the message; the full input stays on `code`.
    const shown = JSON.stringify(code.slice(0, 64)) + (code.length > 64 ? '…' : '');
    super(`malformed code ${shown}: ${problems.map((p) => p.message).join('; ')}`);
    this.code = code;
    this.problems = problems;
  }
}

/** The canonical code, or a MalformedCodeError listing every problem. */
export function requireCode(input: string, options?: ParseOptions): string {
  const parsed = parseCode(input, options);
  if (!parsed.valid || parsed.canonical === null) throw new MalformedCodeError(input, parsed.problems);
  return parsed.canonical;
}

function lengthProblem(expected: number, got: number): CodeProblem {
  return { kind: 'LENGTH', message: `expected ${expected} characters, got ${got}`, position: null };
}

function isCodeChar(ch: string): boolean {
  if (ch.length !== 1) return false;
  const c = ch.charCodeAt(0);
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a);
}

/**
 * JSON escaping (controls, lone surrogates, quotes), plus \uXXXX for invisible or attaching
 * characters JSON leaves alone: C1 controls, format chars such as zero-width space, unassigned
 * and private-use code points, combining marks.
 */
function visible(ch: string): string {
  return JSON.stringify(ch)
    .slice(1, -1)
    .replace(/[\p{C}\p{M}]/gu, (c) =>
      Array.from({ length: c.length }, (_, i) => '\\u' + c.charCodeAt(i).toString(16).padStart(4, '0')).join(''),
    );
}
