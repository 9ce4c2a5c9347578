import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkCodes, splitIntoChunks, type Outcome } from '../scripts/check/chunked-check.js';
import { parseCheckCommand, UsageError } from '../scripts/check/check-options.js';
import { formatCsvRecord, parseCsv } from '../scripts/check/csv.js';
import { HttpGatewayClient, type Attempt, type GatewayClient, type Verification } from '../scripts/check/gateway-client.js';
import { detectFormat, ManifestError, readManifest } from '../scripts/check/manifest-reader.js';
import { Progress } from '../scripts/check/progress.js';
import { backoffDelay, DEFAULT_RETRY_POLICY, parseRetryAfter, type RetryPolicy } from '../scripts/check/retry.js';
import { exitCodeFor, formatSummary } from '../scripts/check/summary.js';
import { buildRows, formatCsv, formatJson } from '../scripts/check/verdict-rows.js';

/** The parts of `npm run check` on their own: readers, writers, retries (with a fake clock: nothing sleeps). */

const ADMIT_CODE = 'CNHMRBH1A00100000000000000002';
const STOLEN_CODE = 'CNHMRBH1A00100000000000000007';
const SCRAPPED_CODE = 'CNHMRBH1A00100000000000000008';

describe('CSV', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks, and keeps line numbers across blank lines', () => {
    const text = '\ufeffcode,note\r\nCN1,"box 1, left"\r\n\r\n"CN2","he said ""ok"""\n"CN3","two\nlines"\nCN4,\n';
    expect(parseCsv(text)).toEqual([
      { line: 1, fields: ['code', 'note'] },
      { line: 2, fields: ['CN1', 'box 1, left'] },
      { line: 4, fields: ['CN2', 'he said "ok"'] },
      { line: 5, fields: ['CN3', 'two\nlines'] },
      { line: 7, fields: ['CN4', ''] },
    ]);
  });

  it('names the line of an unclosed quote or of text after a closing quote', () => {
    expect(() => parseCsv('code\n"CN1\nCN2\n')).toThrow('line 2: a quoted field is never closed');
    expect(() => parseCsv('code\n"CN1"x,2\n')).toThrow('line 2: text after the closing quote');
  });

  it('writes what it reads back unchanged, whatever the field holds', () => {
    const field = fc.string({ unit: fc.constantFrom('a', 'Z', '0', ',', '"', '\n', '\r', ' ', '-', 'é') });
    fc.assert(
      fc.property(fc.array(fc.array(field, { minLength: 2, maxLength: 4 }), { minLength: 1, maxLength: 5 }), (records) => {
        const text = records.map(formatCsvRecord).join('\r\n');
        expect(parseCsv(text).map((r) => r.fields)).toEqual(records);
      }),
    );
  });
});

describe('manifest readers', () => {
  it('takes the "code" column of a CSV, or --column, or the only column', () => {
    const csv = 'box,Code\n1,CN1\n2," CN2 "\n\n,\n3,\n';
    expect(readManifest(csv, 'csv')).toEqual([
      { line: 2, input: 'CN1' },
      { line: 3, input: ' CN2 ' },
      { line: 6, input: '' }, // a row without its code is checked (and refused), not dropped
    ]);
    expect(readManifest(csv, 'csv', 'box').map((e) => e.input)).toEqual(['1', '2', '3']);
    expect(readManifest('serial number\nCN1\n', 'csv').map((e) => e.input)).toEqual(['CN1']);
    expect(() => readManifest(csv, 'csv', 'unit')).toThrow(new ManifestError('the CSV header has no column "unit" (columns: "box", "Code")'));
    expect(() => readManifest('a,b\n1,2\n', 'csv')).toThrow('has no "code" column (columns: "a", "b"); name one with --column');
  });

  it('reads JSON arrays of codes or of objects, and names the item that is neither', () => {
    expect(readManifest('["CN1", "CN2"]', 'json')).toEqual([{ line: 1, input: 'CN1' }, { line: 2, input: 'CN2' }]);
    expect(readManifest('[{"unit":"CN1"},{"unit":"CN2","box":4}]', 'json', 'unit').map((e) => e.input)).toEqual(['CN1', 'CN2']);
    expect(() => readManifest('[{"code":"CN1"},{"serial":"x"}]', 'json')).toThrow('JSON item 2 has no "code" field');
    expect(() => readManifest('["CN1", 42]', 'json')).toThrow('JSON item 2 is number');
    expect(() => readManifest('{"codes": []}', 'json')).toThrow('must be an array');
    expect(() => readManifest('[', 'json')).toThrow('does not parse');
  });

  it('reads one code per line, skipping blank lines but counting them', () => {
    expect(readManifest('CN1\r\n\r\n  \ncn-2\n', 'lines')).toEqual([{ line: 1, input: 'CN1' }, { line: 4, input: 'cn-2' }]);
  });

  it('tells the format by the extension, else by the content', () => {
    expect(detectFormat('m.CSV', 'CN1\n', undefined)).toBe('csv');
    expect(detectFormat('m.json', 'CN1\n', undefined)).toBe('json');
    expect(detectFormat(null, ' [ "CN1" ]', undefined)).toBe('json');
    expect(detectFormat(null, 'code\nCN1\n', undefined)).toBe('csv');
    expect(detectFormat(null, 'unit\nCN1\n', 'unit')).toBe('csv');
    expect(detectFormat(null, 'box,code\n1,CN1\n', undefined)).toBe('csv');
    expect(detectFormat(null, 'CN1\nCN2\n', undefined)).toBe('lines');
  });
});

describe('options', () => {
  it('refuses bad values with a message naming the option, and takes the token and URL from the environment', () => {
    expect(() => parseCheckCommand(['--chunk', '1001'], {})).toThrow(new UsageError('--chunk must be a whole number from 1 to 1000 (got "1001")'));
    expect(() => parseCheckCommand(['--bogus'], {})).toThrow(UsageError);
    expect(() => parseCheckCommand(['--url', 'ftp://x'], {})).toThrow('--url must be http or https');
    const command = parseCheckCommand(['m.csv'], { REGISTRY_TOKEN: 'a.b.c', REGISTRY_URL: 'http://gw:1/graphql' });
    expect(command).toMatchObject({ file: 'm.csv', authorization: 'Bearer a.b.c', url: 'http://gw:1/graphql', chunkSize: 1000 });
    expect(parseCheckCommand(['--token', 'ApiKey k1'], {}).authorization).toBe('ApiKey k1');
    expect(parseCheckCommand(['-'], {}).file).toBeNull();
  });
});

describe('retry timing', () => {
  it('backs off exponentially with full jitter, up to the ceiling', () => {
    const policy = { baseDelayMs: 100, maxDelayMs: 1000 };
    expect([0, 1, 2, 3, 10].map((a) => backoffDelay(a, { ...policy, random: () => 1 }))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffDelay(3, { ...policy, random: () => 0.5 })).toBe(400);
    expect(backoffDelay(3, { ...policy, random: () => 0 })).toBe(0);
  });

  it('reads Retry-After as seconds or as a date, and ignores what it cannot believe', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter('0')).toBe(0);
    expect(parseRetryAfter(new Date(10_000 + 5_000).toUTCString(), 10_000)).toBe(5000);
    expect(parseRetryAfter('soon')).toBeNull();
    expect(parseRetryAfter('86400')).toBeNull();
    expect(parseRetryAfter(null)).toBeNull();
  });
});

/** A gateway in memory: `answer` decides each call; every call and every wait is recorded. */
function fakeGateway(answer: (codes: string[], call: number) => Attempt<Verification[]>) {
  const calls: string[][] = [];
  const client: GatewayClient = {
    verifyMany: async (codes) => {
      calls.push(codes);
      return answer(codes, calls.length);
    },
  };
  let clock = 0;
  const slept: number[] = [];
  const policy: RetryPolicy = {
    ...DEFAULT_RETRY_POLICY,
    retries: 2,
    baseDelayMs: 100,
    random: () => 1,
    now: () => clock,
    sleep: async (ms) => {
      slept.push(ms);
      clock += ms;
    },
  };
  return { client, calls, slept, policy };
}

const verified = (code: string, verdict: Verification['verdict'] = 'ADMIT', reasons: string[] = []): Verification => ({
  code,
  canonical: code,
  verdict,
  reasons: reasons.map((r) => ({ code: r, message: r.toLowerCase() })),
  answeredBy: null,
});
const ok = (codes: string[]): Attempt<Verification[]> => ({ kind: 'ok', value: codes.map((c) => verified(c)) });
const serverError: Attempt<never> = { kind: 'retry', problem: { code: 'HTTP_503', message: 'HTTP 503' }, rateLimited: false, retryAfterMs: null };

describe('chunked check', () => {
  it('sends each distinct code once, in chunks of at most the chunk size', async () => {
    const { client, calls, policy } = fakeGateway(ok);
    const inputs = ['CN1', 'cn-1', 'CN2', 'CN3', 'CN1', 'CN4', 'CN5'];
    const outcomes = await checkCodes(inputs, { client, policy, concurrency: 2, chunkSize: 2 });
    expect(calls.flat().sort()).toEqual(['CN1', 'CN2', 'CN3', 'CN4', 'CN5']);
    expect(Math.max(...calls.map((c) => c.length))).toBe(2);
    expect([...outcomes.keys()].sort()).toEqual(['CN1', 'CN2', 'CN3', 'CN4', 'CN5']);
  });

  it('cuts chunks of very long inputs well below the request body limit', () => {
    const chunks = splitIntoChunks(Array.from({ length: 10 }, (_, i) => `${i}`.repeat(300_000)), 1000);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.flat()).toHaveLength(10);
  });

  it('retries a failed request with backoff, then answers', async () => {
    const { client, calls, slept, policy } = fakeGateway((codes, call) => (call <= 2 ? serverError : ok(codes)));
    const outcomes = await checkCodes([ADMIT_CODE], { client, policy, concurrency: 1, chunkSize: 1000 });
    expect(calls).toHaveLength(3);
    expect(slept).toEqual([100, 200]);
    expect(outcomes.get(ADMIT_CODE)).toMatchObject({ kind: 'verified', verification: { verdict: 'ADMIT' } });
  });

  it('gives up on a chunk that keeps failing, marking only its codes failed', async () => {
    const { client, policy } = fakeGateway((codes) => (codes.includes('CN2') ? serverError : ok(codes)));
    const outcomes = await checkCodes(['CN1', 'CN2', 'CN3'], { client, policy, concurrency: 1, chunkSize: 1 });
    expect(outcomes.get('CN1')?.kind).toBe('verified');
    expect(outcomes.get('CN2')).toEqual({ kind: 'failed', problem: { code: 'HTTP_503', message: 'HTTP 503' } });
    expect(outcomes.get('CN3')?.kind).toBe('verified');
  });

  it('does not retry a refusal that cannot change', async () => {
    const { client, calls, policy } = fakeGateway(() => ({ kind: 'fail', problem: { code: 'UNAUTHENTICATED', message: 'token expired' } }));
    const outcomes = await checkCodes(['CN1'], { client, policy, concurrency: 1, chunkSize: 10 });
    expect(calls).toHaveLength(1);
    expect(outcomes.get('CN1')).toMatchObject({ kind: 'failed', problem: { code: 'UNAUTHENTICATED' } });
  });

  it('waits out a 429 for Retry-After, every worker together, without counting it as a failure', async () => {
    const { client, calls, slept, policy } = fakeGateway((codes, call) =>
      call === 1 ? { kind: 'retry', problem: { code: 'RATE_LIMITED', message: 'wait' }, rateLimited: true, retryAfterMs: 7000 } : ok(codes),
    );
    const notices: string[] = [];
    await checkCodes(['CN1', 'CN2', 'CN3', 'CN4'], { client, policy: { ...policy, retries: 0 }, concurrency: 1, chunkSize: 1, onNotice: (m) => notices.push(m) });
    expect(calls.map((c) => c[0])).toEqual(['CN1', 'CN1', 'CN2', 'CN3', 'CN4']);
    expect(slept).toEqual([7000]);
    expect(notices).toEqual(['RATE_LIMITED: waiting 7.0 s as the gateway asks (Retry-After)']);
  });

  it('sends the codes a registry could not answer for again, and keeps UNKNOWN once the retries are spent', async () => {
    const unavailable = (c: string) => verified(c, 'UNKNOWN', ['REGISTRY_UNAVAILABLE']);
    const { client, calls, policy } = fakeGateway((codes, call) => ({
      kind: 'ok',
      // DE1 recovers on the second round; DE2 never does.
      value: codes.map((c) => (c === 'DE2' || (c === 'DE1' && call === 1) ? unavailable(c) : verified(c))),
    }));
    const outcomes = await checkCodes(['CN1', 'DE1', 'DE2'], { client, policy, concurrency: 1, chunkSize: 10 });
    expect(calls).toEqual([['CN1', 'DE1', 'DE2'], ['DE1', 'DE2'], ['DE2']]);
    expect(verdictOf(outcomes.get('DE1'))).toBe('ADMIT');
    expect(verdictOf(outcomes.get('DE2'))).toBe('UNKNOWN');
  });
});

const verdictOf = (o: Outcome | undefined) => (o?.kind === 'verified' ? o.verification.verdict : o?.kind);

describe('rows, writers and the exit code', () => {
  const entries = [
    { line: 2, input: 'cn-hmrb-h1a001-00000000000000002' },
    { line: 3, input: 'CN-BAD' },
    { line: 5, input: STOLEN_CODE },
    { line: 6, input: ADMIT_CODE },
    { line: 7, input: SCRAPPED_CODE },
  ];
  const outcomes = new Map<string, Outcome>([
    [ADMIT_CODE, { kind: 'verified', verification: verified(ADMIT_CODE) }],
    ['CNBAD', { kind: 'verified', verification: { ...verified('CN-BAD', 'REFUSE', ['MALFORMED_CODE']), canonical: null } }],
    [STOLEN_CODE, { kind: 'failed', problem: { code: 'HTTP_503', message: 'HTTP 503' } }],
    [SCRAPPED_CODE, { kind: 'verified', verification: verified(SCRAPPED_CODE, 'UNKNOWN', ['REGISTRY_UNAVAILABLE']) }],
  ]);
  const rows = buildRows(entries, outcomes, [{ country: 'CN', name: 'China, national' }]);

  it('gives one row per entry in manifest order, the registry from the code\'s country when the gateway does not say', () => {
    expect(rows.map((r) => [r.line, r.code, r.verdict, r.registry?.country ?? null])).toEqual([
      [2, ADMIT_CODE, 'ADMIT', 'CN'],
      [3, '', 'REFUSE', null],
      [5, STOLEN_CODE, 'FAILED', null],
      [6, ADMIT_CODE, 'ADMIT', 'CN'],
      [7, SCRAPPED_CODE, 'UNKNOWN', 'CN'], // the registry asked, though it could not answer
    ]);
  });

  it('writes CSV that reads back, and JSON with the reasons and their messages', () => {
    const back = parseCsv(formatCsv(rows)).map((r) => r.fields);
    expect(back[0]).toEqual(['line', 'input', 'code', 'verdict', 'reasons', 'registry', 'registry_name']);
    expect(back[1]).toEqual(['2', 'cn-hmrb-h1a001-00000000000000002', ADMIT_CODE, 'ADMIT', '', 'CN', 'China, national']);
    expect(back[3]).toEqual(['5', STOLEN_CODE, STOLEN_CODE, 'FAILED', 'HTTP_503', '', '']);
    const json = JSON.parse(formatJson(rows));
    expect(json[1]).toEqual({ line: 3, input: 'CN-BAD', code: '', verdict: 'REFUSE', reasons: [{ code: 'MALFORMED_CODE', message: 'malformed_code' }], registry: null });
  });

  it('exits 2 for any UNKNOWN or FAILED, else 1 for any REFUSE, else 0; the summary counts by verdict and reason', () => {
    expect(exitCodeFor(rows)).toBe(2);
    expect(exitCodeFor(rows.filter((r) => r.verdict !== 'FAILED'))).toBe(2);
    expect(exitCodeFor(rows.filter((r) => r.verdict !== 'FAILED' && r.verdict !== 'UNKNOWN'))).toBe(1);
    expect(exitCodeFor(rows.filter((r) => r.verdict === 'ADMIT'))).toBe(0);
    const summary = formatSummary(rows, 4, 2000);
    expect(summary).toContain('checked 5 codes (4 distinct) in 2.0 s, 3 codes/s');
    expect(summary).toMatch(/ADMIT +2\n/);
    expect(summary).toMatch(/REFUSE +1 +MALFORMED_CODE 1\n/);
    expect(summary).toMatch(/FAILED +1 +HTTP_503 1\n/);
  });
});

describe('progress', () => {
  it('prints plain lines in a pipe, the first at once, then at each tenth, with rate and ETA', () => {
    let now = 0;
    const lines: string[] = [];
    const progress = new Progress({ total: 1000, write: (t) => lines.push(t), tty: false, now: () => now });
    for (let i = 0; i < 20; i++) {
      now += 100;
      progress.advance(50);
    }
    expect(lines).toHaveLength(11);
    expect(lines[0]).toBe('50/1,000 codes (5%), 500 codes/s, ETA 1.9 s\n');
    expect(lines[1]).toBe('100/1,000 codes (10%), 500 codes/s, ETA 1.8 s\n');
    expect(lines[10]).toBe('1,000/1,000 codes (100%), 500 codes/s, done\n');
  });

  it('redraws one line in place on a terminal and ends on a fresh line', () => {
    let now = 0;
    let out = '';
    const progress = new Progress({ total: 100, write: (t) => (out += t), tty: true, now: () => now, columns: 100 });
    now = 1000;
    progress.advance(50);
    progress.note('a notice');
    progress.finish();
    expect(out).toContain('\r\x1b[K[####################--------------------] 50/100 codes (50%), 50 codes/s, ETA 1.0 s');
    expect(out).toContain('\r\x1b[Ka notice\n');
    expect(out.endsWith('\n')).toBe(true);
  });
});

describe('gateway client', () => {
  /** A stand-in gateway answering each request with `answer(body)`; records what it was asked. */
  async function cannedGateway(answer: (body: { query: string; variables: { codes?: string[] } }) => unknown) {
    const queries: string[] = [];
    const server = createServer((req, res) => {
      let text = '';
      req.on('data', (c) => (text += c));
      req.on('end', () => {
        const body = JSON.parse(text);
        queries.push(body.query);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer(body)));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}/graphql`, queries, stop: () => new Promise((resolve) => server.close(resolve)) };
  }
  const registries = [{ country: 'CN', name: 'CN registry' }];

  it('uses input, canonical and answeredBy when the gateway has them, and refuses an answer about another code', async () => {
    let swap = false;
    const gateway = await cannedGateway(({ variables }) => ({
      data: {
        registries,
        verifyMany: (variables.codes ?? []).map((input, i) => ({
          code: input.toUpperCase(),
          input: swap && i === 0 ? 'CNSOMETHINGELSE' : input,
          canonical: input.toUpperCase(),
          verdict: 'ADMIT',
          reasons: [],
          answeredBy: { country: 'CN', name: 'CN registry (partner node)' },
        })),
      },
    }));
    try {
      const client = new HttpGatewayClient({ url: gateway.url, authorization: null, timeoutMs: 5000 });
      expect(await client.start()).toEqual({ kind: 'ok', value: { registries, extendedVerification: true } });
      const answer = await client.verifyMany([ADMIT_CODE.toLowerCase()]);
      expect(answer).toMatchObject({ kind: 'ok', value: [{ canonical: ADMIT_CODE, answeredBy: { name: 'CN registry (partner node)' } }] });
      expect(gateway.queries.at(-1)).toContain('answeredBy { country name }');
      swap = true;
      expect(await client.verifyMany([ADMIT_CODE])).toMatchObject({ kind: 'retry', problem: { code: 'BAD_ANSWER' } });
    } finally {
      await gateway.stop();
    }
  });

  it('falls back to the older Verification fields when the gateway does not know the new ones', async () => {
    // This one also answers in reverse order.
    const gateway = await cannedGateway(({ query, variables }) =>
      query.includes('answeredBy')
        ? { errors: [{ message: 'Cannot query field "input" on type "Verification".', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] }
        : { data: { registries, verifyMany: [...(variables.codes ?? [])].reverse().map((c) => ({ code: c, verdict: 'REFUSE', reasons: [{ code: 'STOLEN', message: 'stolen' }] })) } },
    );
    try {
      const client = new HttpGatewayClient({ url: gateway.url, authorization: null, timeoutMs: 5000 });
      expect(await client.start()).toEqual({ kind: 'ok', value: { registries, extendedVerification: false } });
      expect(await client.verifyMany([STOLEN_CODE])).toEqual({
        kind: 'ok',
        value: [{ code: STOLEN_CODE, canonical: STOLEN_CODE, verdict: 'REFUSE', reasons: [{ code: 'STOLEN', message: 'stolen' }], answeredBy: null }],
      });
      // Answers are matched by position here, so answers in another order are refused, not misplaced.
      expect(await client.verifyMany([STOLEN_CODE, ADMIT_CODE])).toMatchObject({ kind: 'retry', problem: { code: 'BAD_ANSWER' } });
    } finally {
      await gateway.stop();
    }
  });
});
