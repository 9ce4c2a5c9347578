import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { checkCodes, dedupeKey } from './check/chunked-check.js';
import { HELP, parseCheckCommand, UsageError, type CheckCommand } from './check/check-options.js';
import { HttpGatewayClient, type GatewayFacts } from './check/gateway-client.js';
import { detectFormat, ManifestError, readManifest } from './check/manifest-reader.js';
import { count, Progress } from './check/progress.js';
import { backoffDelay, DEFAULT_RETRY_POLICY, type RetryPolicy } from './check/retry.js';
import { EXIT, exitCodeFor, exitMeaning, formatSummary } from './check/summary.js';
import { buildRows, formatCsv, formatJson } from './check/verdict-rows.js';

/**
 * `npm run check -- manifest.csv [--out verdicts.csv|.json]`: the customs verdict for every code of a
 * container manifest, through verifyMany in chunks (scripts/check/ has the parts). Rows go to --out or
 * stdout; progress, notices and the summary to stderr. The exit code says the worst verdict (summary.ts).
 */
export async function runCheck(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const log = (text: string) => process.stderr.write(text);
  let command: CheckCommand;
  let text: string;
  let out: number | null = null;
  try {
    command = parseCheckCommand(argv, env);
    if (command.help) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    // npm runs scripts in the package folder: paths are the user's, relative to where npm was started.
    const base = env.INIT_CWD ?? process.cwd();
    text = readInput(command.file === null ? null : resolve(base, command.file), command.file);
    // Opened now, so a wrong path is a usage error before the first request rather than after the last.
    if (command.out !== null) out = openOutput(resolve(base, command.out), command.out);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    log(`check: ${error.message}\nRun with --help for usage.\n`);
    return EXIT.USAGE;
  }
  try {
    return await check(command, text, out, log);
  } finally {
    if (out !== null) closeSync(out);
  }
}

async function check(command: CheckCommand, text: string, out: number | null, log: (text: string) => void): Promise<number> {
  const format = command.format ?? detectFormat(command.file, text, command.column);
  let entries;
  try {
    entries = readManifest(text, format, command.column);
  } catch (error) {
    if (!(error instanceof ManifestError)) throw error;
    log(`check: ${command.file ?? 'stdin'}: ${error.message}\n`);
    return EXIT.USAGE;
  }
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, retries: command.retries, baseDelayMs: command.backoffMs };
  const client = new HttpGatewayClient({ url: command.url, authorization: command.authorization, timeoutMs: command.timeoutMs });
  const facts = await startClient(client, policy, log);
  if (typeof facts === 'string') {
    log(`check: cannot use the gateway at ${command.url}: ${facts}\n`);
    return EXIT.SOME_UNKNOWN;
  }

  const distinct = new Set(entries.map((e) => dedupeKey(e.input))).size;
  log(`checking ${count(entries.length)} codes (${count(distinct)} distinct) from ${command.file ?? 'stdin'} (${format}) at ${command.url}, ${command.authorization ? 'with a token' : 'anonymously'}\n`);
  const started = Date.now();
  const progress = command.quiet ? null : new Progress({ total: entries.length, write: log, tty: process.stderr.isTTY === true, columns: process.stderr.columns });
  const outcomes = await checkCodes(
    entries.map((e) => e.input),
    { client, policy, concurrency: command.concurrency, chunkSize: command.chunkSize, onProgress: (rows) => progress?.advance(rows), onNotice: (m) => progress?.note(m) },
  );
  progress?.finish();
  const rows = buildRows(entries, outcomes, facts.registries);
  const written = command.out?.toLowerCase().endsWith('.json') ? formatJson(rows) : formatCsv(rows);
  if (out !== null) writeSync(out, written);
  else {
    // A reader that stops early (`| head`) is not an error of the check: the summary still says what was found.
    process.stdout.on('error', (error: NodeJS.ErrnoException) => log(error.code === 'EPIPE' ? '' : `check: stdout: ${error.message}\n`));
    await new Promise<void>((resolve) => process.stdout.write(written, () => resolve()));
  }

  const exitCode = exitCodeFor(rows);
  log(formatSummary(rows, distinct, Date.now() - started));
  log(`${command.out ? `rows written to ${command.out}; ` : ''}exit ${exitCode}: ${exitMeaning(exitCode)}\n`);
  return exitCode;
}

/** The first call, retried like any other: a gateway still starting gets a few seconds. Words on failure. */
async function startClient(client: HttpGatewayClient, policy: RetryPolicy, log: (text: string) => void): Promise<GatewayFacts | string> {
  for (let failures = 0; ; failures++) {
    const attempt = await client.start();
    if (attempt.kind === 'ok') return attempt.value;
    if (attempt.kind === 'fail' || failures >= policy.retries) return `${attempt.problem.code}: ${attempt.problem.message}`;
    const wait = attempt.retryAfterMs ?? backoffDelay(failures, policy);
    log(`${attempt.problem.code}: ${attempt.problem.message}; retrying in ${(wait / 1000).toFixed(1)} s\n`);
    await policy.sleep(wait);
  }
}

function readInput(path: string | null, given: string | null): string {
  if (path === null && process.stdin.isTTY) throw new UsageError('no manifest: name a file, or pipe codes in (with - or no file)');
  try {
    return readFileSync(path ?? 0, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the manifest ${given ?? 'from stdin'}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

function openOutput(path: string, given: string): number {
  try {
    return openSync(path, 'w');
  } catch (error) {
    throw new UsageError(`cannot write --out ${given}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runCheck(process.argv.slice(2));
}
