import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  CODE_LENGTH,
  MalformedCodeError,
  countryOf,
  formatCode,
  normaliseCode,
  parseCode,
  requireCode,
  type CodeKind,
} from '../lib/identity-code/identity-code.js';

const UNIT = 'CNABCDRB00012024ABCDEFGH12345';
const UNIT_DISPLAY = 'CN-ABCD-RB0001-2024ABCDEFGH12345';
const known = (c: string) => c === 'CN' || c === 'DE';

describe('parseCode', () => {
  it('splits a known-good unit code into its segments', () => {
    const p = parseCode(UNIT, { isKnownCountry: known });
    expect(p).toEqual({
      input: UNIT,
      valid: true,
      canonical: UNIT,
      display: UNIT_DISPLAY,
      country: 'CN',
      enterprise: 'ABCD',
      model: 'RB0001',
      serial: '2024ABCDEFGH12345',
      enterpriseCode: 'CNABCD',
      modelCode: 'CNABCDRB0001',
      problems: [],
    });
  });

  it('normalises lower case, whitespace and hyphens', () => {
    for (const input of [
      UNIT_DISPLAY,
      UNIT_DISPLAY.toLowerCase(),
      `  cn abcd-rb0001 - 2024 abcd efgh 12345 \n`,
      'C-N-A-B-C-D-R-B-0-0-0-1-2-0-2-4-A-B-C-D-E-F-G-H-1-2-3-4-5',
      `\tcn\u00a0abcd\u3000rb0001--2024abcdefgh12345`,
    ]) {
      const p = parseCode(input);
      expect(p.problems, input).toEqual([]);
      expect(p.canonical).toBe(UNIT);
      expect(p.display).toBe(UNIT_DISPLAY);
      expect(p.input).toBe(input);
    }
    expect(normaliseCode(' cn-abcd ')).toBe('CNABCD');
  });

  it('does not case-map non-ASCII letters into valid characters', () => {
    // 'ß'.toUpperCase() is 'SS', 'ı' and 'ſ' upper-case to 'I' and 'S', the Kelvin sign lower-cases to 'k'.
    for (const ch of ['ß', 'ı', 'ſ', '\u212A']) {
      const input = ch + UNIT.slice(1);
      expect(normaliseCode(input)).toBe(input);
      const p = parseCode(input);
      expect(p.problems).toEqual([
        { kind: 'CHARACTER', message: `invalid character '${ch}' at position 1`, position: 1 },
      ]);
    }
  });

  it('reports a wrong length with the normalised length it got', () => {
    const p = parseCode(UNIT + 'XY');
    expect(p.valid).toBe(false);
    expect(p.canonical).toBeNull();
    expect(p.display).toBeNull();
    expect(p.country).toBeNull();
    expect(p.serial).toBeNull();
    expect(p.enterpriseCode).toBeNull();
    expect(p.modelCode).toBeNull();
    expect(p.problems).toEqual([{ kind: 'LENGTH', message: 'expected 29 characters, got 31', position: null }]);
    expect(parseCode('').problems).toEqual([
      { kind: 'LENGTH', message: 'expected 29 characters, got 0', position: null },
    ]);
    // Separators do not count.
    expect(parseCode(`${UNIT_DISPLAY.slice(0, -1)}`).problems[0]?.message).toBe('expected 29 characters, got 28');
  });

  it('reports every bad character at its 1-based position in the normalised code, plus the length', () => {
    // Normalised: 'CNABCD' + '_' (7) + 'B0001' + '2024ABCDEFGH1234' + '\u0000' (29) + '!' (30)
    const p = parseCode('CN-ABCD-_B0001-2024ABCDEFGH1234\u0000!');
    expect(p.problems).toEqual([
      { kind: 'LENGTH', message: 'expected 29 characters, got 30', position: null },
      { kind: 'CHARACTER', message: "invalid character '_' at position 7", position: 7 },
      { kind: 'CHARACTER', message: "invalid character '\\u0000' at position 29", position: 29 },
      { kind: 'CHARACTER', message: "invalid character '!' at position 30", position: 30 },
    ]);
  });

  it('keeps segments when the length is right even if characters are bad', () => {
    const p = parseCode('CNABCD.B00012024ABCDEFGH12345');
    expect(p.valid).toBe(false);
    expect(p.canonical).toBeNull();
    expect(p.display).toBeNull();
    expect(p.country).toBe('CN');
    expect(p.model).toBe('.B0001');
    expect(p.modelCode).toBe('CNABCD.B0001');
    expect(p.problems.map((x) => x.position)).toEqual([7]);
  });

  it('makes invisible characters visible in messages', () => {
    const cases: Array<[string, string]> = [
      ['\u200b', '\\u200b'], // zero-width space is not whitespace
      ['\u0085', '\\u0085'], // C1 control
      ['\u0301', '\\u0301'], // combining acute accent
      ['\ud800', '\\ud800'], // lone surrogate
      ['"', '\\"'],
      ['é', 'é'],
    ];
    for (const [ch, shown] of cases) {
      expect(parseCode('CNABCD' + ch).problems[1]?.message).toBe(`invalid character '${shown}' at position 7`);
    }
  });

  it('reports an emoji as one problem at its UTF-16 position', () => {
    const p = parseCode('CN😀_D', { kind: 'enterprise' });
    expect(p.problems).toEqual([
      { kind: 'CHARACTER', message: "invalid character '😀' at position 3", position: 3 },
      { kind: 'CHARACTER', message: "invalid character '_' at position 5", position: 5 },
    ]);
  });

  it('reports a country segment no registry serves', () => {
    const p = parseCode('XX' + UNIT.slice(2), { isKnownCountry: known });
    expect(p.valid).toBe(false);
    expect(p.canonical).toBeNull();
    expect(p.country).toBe('XX');
    expect(p.problems).toEqual([
      { kind: 'UNKNOWN_COUNTRY', message: 'no registry serves country segment "XX"', position: null },
    ]);
    // Without configuration every country is accepted.
    expect(parseCode('XX' + UNIT.slice(2)).valid).toBe(true);
  });

  it('does not ask about a country segment that contains a bad character', () => {
    let asked = 0;
    const isKnownCountry = () => {
      asked++;
      return false;
    };
    expect(parseCode('C_' + UNIT.slice(2), { isKnownCountry }).problems.map((x) => x.kind)).toEqual(['CHARACTER']);
    expect(parseCode('C', { isKnownCountry }).problems.map((x) => x.kind)).toEqual(['LENGTH']);
    expect(asked).toBe(0);
  });

  it('reports length, characters and country together', () => {
    const p = parseCode('xx-ab*', { kind: 'enterprise', isKnownCountry: known });
    expect(p.problems.map((x) => [x.kind, x.position])).toEqual([
      ['LENGTH', null],
      ['CHARACTER', 5],
      ['UNKNOWN_COUNTRY', null],
    ]);
  });

  it('parses enterprise keys', () => {
    const p = parseCode('cn-abcd', { kind: 'enterprise', isKnownCountry: known });
    expect(p).toMatchObject({
      valid: true,
      canonical: 'CNABCD',
      display: 'CN-ABCD',
      country: 'CN',
      enterprise: 'ABCD',
      model: null,
      serial: null,
      enterpriseCode: 'CNABCD',
      modelCode: null,
    });
    expect(parseCode(UNIT, { kind: 'enterprise' }).problems[0]?.message).toBe('expected 6 characters, got 29');
  });

  it('parses product model keys', () => {
    const p = parseCode('CN-ABCD-RB0001', { kind: 'productModel' });
    expect(p).toMatchObject({
      valid: true,
      canonical: 'CNABCDRB0001',
      display: 'CN-ABCD-RB0001',
      country: 'CN',
      enterprise: 'ABCD',
      model: 'RB0001',
      serial: null,
      enterpriseCode: 'CNABCD',
      modelCode: 'CNABCDRB0001',
    });
    expect(parseCode('CNABCD', { kind: 'productModel' }).problems[0]?.message).toBe('expected 12 characters, got 6');
  });

  it('refuses hostile long input on length alone', () => {
    const huge = '!'.repeat(1_000_000);
    const p = parseCode(huge);
    expect(p.valid).toBe(false);
    expect(p.problems).toEqual([{ kind: 'LENGTH', message: 'expected 29 characters, got 1000000', position: null }]);
    // Up to 1000 characters are still scanned (separators do not count towards the code).
    const padded = ' '.repeat(971) + UNIT;
    expect(padded.length).toBe(1000);
    expect(parseCode(padded).canonical).toBe(UNIT);
    expect(parseCode(' ' + padded).problems).toEqual([
      { kind: 'LENGTH', message: 'expected 29 characters, got 1001', position: null },
    ]);
  });
});

describe('formatCode', () => {
  it('formats the three canonical lengths', () => {
    expect(formatCode('CNABCD')).toBe('CN-ABCD');
    expect(formatCode('CNABCDRB0001')).toBe('CN-ABCD-RB0001');
    expect(formatCode(UNIT)).toBe(UNIT_DISPLAY);
  });

  it('throws on other lengths and non-canonical input', () => {
    for (const bad of ['', 'CN', 'CNABCDE', UNIT + 'X', UNIT_DISPLAY, 'CN-ABC', 'cnabcd']) {
      expect(() => formatCode(bad), bad).toThrow(RangeError);
    }
  });
});

describe('countryOf', () => {
  it('is the first two characters of the normalised code', () => {
    expect(countryOf(UNIT)).toBe('CN');
    expect(countryOf('  d-e-abcd')).toBe('DE');
  });
});

describe('requireCode', () => {
  it('returns the canonical code', () => {
    expect(requireCode(UNIT_DISPLAY.toLowerCase())).toBe(UNIT);
    expect(requireCode('cn-abcd', { kind: 'enterprise', isKnownCountry: known })).toBe('CNABCD');
  });

  it('throws MalformedCodeError carrying the input and every problem', () => {
    const input = 'xx-ab*';
    let error: unknown;
    try {
      requireCode(input, { kind: 'enterprise', isKnownCountry: known });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MalformedCodeError);
    expect(error).toBeInstanceOf(Error);
    const e = error as MalformedCodeError;
    expect(e.name).toBe('MalformedCodeError');
    expect(e.code).toBe(input);
    expect(e.problems.map((p) => p.kind)).toEqual(['LENGTH', 'CHARACTER', 'UNKNOWN_COUNTRY']);
    expect(e.message).toContain('"xx-ab*"');
    expect(e.message).toContain('expected 6 characters, got 5');
    expect(e.message).toContain("invalid character '*' at position 5");
    expect(e.message).toContain('no registry serves country segment "XX"');
  });

  it('caps a hostile input in the message but keeps it on the error', () => {
    const huge = 'A'.repeat(5000);
    const e = (() => {
      try {
        requireCode(huge);
      } catch (err) {
        return err as MalformedCodeError;
      }
      throw new Error('expected a throw');
    })();
    expect(e.code).toBe(huge);
    expect(e.message.length).toBeLessThan(200);
  });
});

// ---- properties ----------------------------------------------------------------------------------

const ALPHABET = [...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'];
const KINDS: CodeKind[] = ['unit', 'productModel', 'enterprise'];

const codeOf = (kind: CodeKind) =>
  fc.string({ unit: fc.constantFrom(...ALPHABET), minLength: CODE_LENGTH[kind], maxLength: CODE_LENGTH[kind] });

const kindAndCode = fc.constantFrom(...KINDS).chain((kind) => codeOf(kind).map((code) => ({ kind, code })));

/** A code with random separators around every character and random ASCII lower-casing. */
const decorated = kindAndCode.chain(({ kind, code }) =>
  fc
    .array(
      fc.record({
        lower: fc.boolean(),
        before: fc.constantFrom('', '', '', '-', ' ', '--', ' - ', '\t', '\n', '\u00a0', '\u3000'),
      }),
      { minLength: code.length + 1, maxLength: code.length + 1 },
    )
    .map((marks) => ({
      kind,
      code,
      input:
        [...code].map((ch, i) => marks[i]!.before + (marks[i]!.lower ? ch.toLowerCase() : ch)).join('') +
        marks[code.length]!.before,
    })),
);

/** A single UTF-16 unit outside [0-9A-Z] that normalisation neither drops nor maps into [0-9A-Z]. */
const badChar = fc
  .oneof(
    fc.constantFrom('ß', 'ı', 'ſ', '\u212A', '\u0000', '\u200b', '\u2010', '\uff21', '_', '.', '*', "'", '"', '\\'),
    fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  )
  .filter((ch) => !/[0-9A-Za-z\s-]/.test(ch));

describe('properties', () => {
  it('a valid code is its own canonical form, and its display form formats and round-trips', () => {
    fc.assert(
      fc.property(kindAndCode, ({ kind, code }) => {
        const p = parseCode(code, { kind });
        expect(p.valid).toBe(true);
        expect(p.canonical).toBe(code);
        expect(p.display).not.toBeNull();
        expect(formatCode(p.canonical!)).toBe(p.display);
        const again = parseCode(p.display!, { kind });
        expect(again.canonical).toBe(code);
        expect(again.display).toBe(p.display);
        expect(countryOf(p.display!)).toBe(code.slice(0, 2));
      }),
    );
  });

  it('hyphens, whitespace and lower case never change the canonical code', () => {
    fc.assert(
      fc.property(decorated, ({ kind, code, input }) => {
        expect(normaliseCode(input)).toBe(code);
        const p = parseCode(input, { kind });
        expect(p.problems).toEqual([]);
        expect(p.canonical).toBe(code);
        expect(requireCode(input, { kind })).toBe(code);
      }),
    );
  });

  it('every single-character corruption is reported exactly, at its position, and nothing else', () => {
    const corrupted = kindAndCode.chain(({ kind, code }) =>
      fc.record({
        kind: fc.constant(kind),
        code: fc.constant(code),
        index: fc.integer({ min: 0, max: code.length - 1 }),
        ch: badChar,
      }),
    );
    fc.assert(
      fc.property(corrupted, ({ kind, code, index, ch }) => {
        const input = code.slice(0, index) + ch + code.slice(index + 1);
        const country = code.slice(0, 2);
        const p = parseCode(input, { kind, isKnownCountry: (c) => c === country });
        expect(p.valid).toBe(false);
        expect(p.canonical).toBeNull();
        expect(p.problems).toHaveLength(1);
        expect(p.problems[0]).toMatchObject({ kind: 'CHARACTER', position: index + 1 });
        expect(p.problems[0]!.message).toMatch(new RegExp(`^invalid character '.+' at position ${index + 1}$`, 's'));
        // The length is right, so the segments are still reported as written.
        expect(p.enterpriseCode).toBe(input.slice(0, 6));
      }),
      { numRuns: 500 },
    );
  });
});
