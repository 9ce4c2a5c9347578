import { parseArgs } from 'node:util';
import type { ManifestFormat } from './manifest-reader.js';

/** The command line of `npm run check`, checked whole before anything is read or sent. */

export interface CheckCommand {
  help: boolean;
  /** null: standard input. */
  file: string | null;
  format: ManifestFormat | null;
  column: string | undefined;
  out: string | null;
  url: string;
  /** The whole Authorization header value (`Bearer <jwt>` or `ApiKey <key>`), or null. */
  authorization: string | null;
  concurrency: number;
  chunkSize: number;
  retries: number;
  backoffMs: number;
  timeoutMs: number;
  quiet: boolean;
}

export class UsageError extends Error {}

export const DEFAULT_URL = 'http://127.0.0.1:4000/graphql';

export const HELP = `Usage: npm run check -- [manifest] [options]

Checks every code of a container manifest with the registry's verifyMany and writes one row per line.

  manifest              a .csv (header row), .json (array of codes or of objects) or .txt file (one code
                        per line); other names and stdin (no file, or -) are recognised by their content
  --column NAME         the code column (CSV) or field (JSON objects); default "code", or a CSV's only column
  --format csv|json|lines   the manifest's format, when neither its name nor its content says
  --out FILE            write the rows to FILE (.json: a JSON array, anything else: CSV); default: CSV on stdout
  --url URL             the gateway (default REGISTRY_URL, else ${DEFAULT_URL})
  --token T             a JWT (sent as Bearer) or "ApiKey <key>" (default REGISTRY_TOKEN; none: anonymous)
  --concurrency N       verifyMany requests in flight at once, 1-8 (default 3)
  --chunk N             codes per request, 1-1000 (default 1000)
  --retries N           retries of a failed request, and re-sends of codes answered REGISTRY_UNAVAILABLE (default 4)
  --backoff MS          first backoff step in ms, doubled per retry, with jitter (default 500)
  --timeout MS          time one request may take (default 60000)
  --quiet               no progress, only the summary
  -h, --help            this text

Progress and the summary go to stderr. Exit codes: 0 every code ADMIT, 1 some REFUSE, 2 some UNKNOWN or
FAILED (no answer after the retries; the row's reason says why) or the gateway could not be used at all,
64 usage error (bad option, unreadable or unparseable manifest, no such column).`;

export function parseCheckCommand(argv: string[], env: NodeJS.ProcessEnv): CheckCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        column: { type: 'string' },
        format: { type: 'string' },
        out: { type: 'string' },
        url: { type: 'string' },
        token: { type: 'string' },
        concurrency: { type: 'string' },
        chunk: { type: 'string' },
        retries: { type: 'string' },
        backoff: { type: 'string' },
        timeout: { type: 'string' },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) throw new UsageError(`one manifest at a time (got ${positionals.map((p) => JSON.stringify(p)).join(', ')})`);
  const file = positionals[0] === undefined || positionals[0] === '-' ? null : positionals[0];
  const format = values.format ?? null;
  if (format !== null && format !== 'csv' && format !== 'json' && format !== 'lines') throw new UsageError(`--format must be csv, json or lines (got "${format}")`);
  if (values.column !== undefined && values.column.trim() === '') throw new UsageError('--column needs a name');
  const url = values.url ?? env.REGISTRY_URL ?? DEFAULT_URL;
  let parsedUrl: URL;
  try {
    parsedUrl = new URL(url);
  } catch {
    throw new UsageError(`--url is not a URL: "${url}"`);
  }
  if (parsedUrl.protocol !== 'http:' && parsedUrl.protocol !== 'https:') throw new UsageError(`--url must be http or https (got "${url}")`);
  const token = (values.token ?? env.REGISTRY_TOKEN ?? '').trim();
  if (/[\r\n]/.test(token)) throw new UsageError('the token holds a line break');
  return {
    help: values.help,
    file,
    format,
    column: values.column,
    out: values.out ?? null,
    url,
    authorization: token === '' ? null : /\s/.test(token) ? token : `Bearer ${token}`,
    concurrency: integer('--concurrency', values.concurrency, 3, 1, 8),
    chunkSize: integer('--chunk', values.chunk, 1000, 1, 1000),
    retries: integer('--retries', values.retries, 4, 0, 20),
    backoffMs: integer('--backoff', values.backoff, 500, 0, 60_000),
    timeoutMs: integer('--timeout', values.timeout, 60_000, 100, 600_000),
    quiet: values.quiet,
  };
}

function integer(flag: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < min || n > max) throw new UsageError(`${flag} must be a whole number from ${min} to ${max} (got "${value}")`);
  return n;
}
