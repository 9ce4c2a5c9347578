/**
 * RFC 4180 CSV, both ways: fields separated by commas, records by CRLF or LF, a field in double quotes may
 * hold commas, line breaks and doubled quotes (""). Small enough to own rather than depend on a library.
 */

export interface CsvRecord {
  /** 1-based line of the file where the record starts (a quoted field may span lines). */
  line: number;
  fields: string[];
}

export class CsvError extends Error {}

/** Parses the whole text; a record that is an empty line is dropped, its line still counted. */
export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // a byte-order mark, as spreadsheet exports write
  // Whether the current record has anything (an empty line is a blank record, a lone `""` is not).
  let started = false;

  const endRecord = () => {
    fields.push(field);
    if (started || fields.length > 1) records.push({ line: recordLine, fields });
    fields = [];
    field = '';
    started = false;
  };

  while (i < text.length) {
    const c = text[i]!;
    if (c === '"' && field === '') {
      // A quoted field: read to its closing quote.
      started = true;
      const openedAt = line;
      i++;
      for (;;) {
        if (i >= text.length) throw new CsvError(`line ${openedAt}: a quoted field is never closed`);
        const q = text[i]!;
        if (q === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (q === '\n') line++;
        field += q;
        i++;
      }
      const next = text[i];
      if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
        throw new CsvError(`line ${line}: text after the closing quote of a field (a quote inside a quoted field is written "")`);
      }
      continue;
    }
    if (c === ',') {
      fields.push(field);
      field = '';
      started = true;
      i++;
    } else if (c === '\r' || c === '\n') {
      endRecord();
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
      recordLine = line;
    } else {
      field += c;
      started = true;
      i++;
    }
  }
  if (started || field !== '' || fields.length > 0) endRecord();
  return records;
}

/** One CSV record (no line break at the end), fields quoted only where RFC 4180 needs it. */
export function formatCsvRecord(fields: readonly string[]): string {
  return fields.map(quoteCsvField).join(',');
}

export function quoteCsvField(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
