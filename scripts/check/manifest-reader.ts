import { extname } from 'node:path';
import { CsvError, parseCsv } from './csv.js';

/**
 * A container manifest as a list of codes, each with where it came from. Three formats: CSV with a header
 * row, JSON (an array of strings, or of objects), or plain text with one code per line. Blank lines are
 * skipped; every other line or item is an entry, in file order, even when its code is empty (the registry
 * then answers REFUSE, MALFORMED_CODE), so one output row stands for each line that had something on it.
 */

export type ManifestFormat = 'csv' | 'json' | 'lines';

export interface ManifestEntry {
  /** 1-based line of the file (CSV, plain text; the CSV header is line 1) or position in the JSON array. */
  line: number;
  /** The code exactly as written in the manifest. */
  input: string;
}

/** Something wrong with the manifest itself (not with a code in it): the CLI exits with its usage code. */
export class ManifestError extends Error {}

export const DEFAULT_COLUMN = 'code';

/** The format from the file name's extension, else from the content (`-` and unknown extensions). */
export function detectFormat(fileName: string | null, text: string, column: string | undefined): ManifestFormat {
  const extension = fileName ? extname(fileName).toLowerCase() : '';
  if (extension === '.csv') return 'csv';
  if (extension === '.json') return 'json';
  if (extension === '.txt') return 'lines';
  const start = text.replace(/^\ufeff/, '').trimStart();
  if (start.startsWith('[')) return 'json';
  // A first line that is a header (it names the column, or has several fields) makes it CSV.
  const firstLine = start.split(/\r?\n/, 1)[0]!.trim();
  const header = firstLine.replace(/^"|"$/g, '').trim().toLowerCase();
  if (firstLine.includes(',') || header === (column ?? DEFAULT_COLUMN).toLowerCase()) return 'csv';
  return 'lines';
}

export function readManifest(text: string, format: ManifestFormat, column?: string): ManifestEntry[] {
  switch (format) {
    case 'csv':
      return readCsv(text, column);
    case 'json':
      return readJson(text, column);
    case 'lines':
      if (column !== undefined) throw new ManifestError(`--column ${column}: a plain list of codes has no columns (use a CSV or JSON manifest, or --format)`);
      return readLines(text);
  }
}

function readLines(text: string): ManifestEntry[] {
  const entries: ManifestEntry[] = [];
  text.replace(/^\ufeff/, '').split(/\r\n|\n|\r/).forEach((input, index) => {
    if (input.trim() !== '') entries.push({ line: index + 1, input });
  });
  return entries;
}

function readCsv(text: string, column: string | undefined): ManifestEntry[] {
  let records;
  try {
    records = parseCsv(text);
  } catch (error) {
    if (error instanceof CsvError) throw new ManifestError(`CSV ${error.message}`);
    throw error;
  }
  const header = records.shift();
  if (!header) throw new ManifestError('the CSV manifest is empty: expected a header row naming the code column');
  const index = columnIndex(header.fields, column);
  const entries: ManifestEntry[] = [];
  for (const record of records) {
    if (record.fields.every((f) => f.trim() === '')) continue; // a blank line, or only separators
    entries.push({ line: record.line, input: record.fields[index] ?? '' });
  }
  return entries;
}

/** `--column` by exact name, then ignoring case and spaces; by default `code`, or the only column. */
function columnIndex(names: string[], column: string | undefined): number {
  const wanted = column ?? DEFAULT_COLUMN;
  const exact = names.indexOf(wanted);
  if (exact >= 0) return exact;
  const loose = names.findIndex((n) => n.trim().toLowerCase() === wanted.trim().toLowerCase());
  if (loose >= 0) return loose;
  if (column === undefined && names.length === 1) return 0;
  const listed = names.map((n) => JSON.stringify(n)).join(', ');
  throw new ManifestError(
    column === undefined
      ? `the CSV header has no "${DEFAULT_COLUMN}" column (columns: ${listed}); name one with --column`
      : `the CSV header has no column "${column}" (columns: ${listed})`,
  );
}

function readJson(text: string, column: string | undefined): ManifestEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.replace(/^\ufeff/, ''));
  } catch (error) {
    throw new ManifestError(`the JSON manifest does not parse: ${(error as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new ManifestError('the JSON manifest must be an array of codes, or of objects with a code field');
  const key = column ?? DEFAULT_COLUMN;
  return parsed.map((item: unknown, index) => {
    const line = index + 1;
    if (typeof item === 'string') {
      if (column !== undefined) throw new ManifestError(`JSON item ${line} is a string, but --column ${column} asks for objects`);
      return { line, input: item };
    }
    if (typeof item === 'object' && item !== null && !Array.isArray(item)) {
      const value = (item as Record<string, unknown>)[key];
      if (typeof value !== 'string') {
        throw new ManifestError(`JSON item ${line} has ${value === undefined ? 'no' : `a non-string (${typeof value})`} "${key}" field${column === undefined ? '; name the field with --column' : ''}`);
      }
      return { line, input: value };
    }
    throw new ManifestError(`JSON item ${line} is ${item === null ? 'null' : typeof item}: expected a code (string) or an object`);
  });
}
