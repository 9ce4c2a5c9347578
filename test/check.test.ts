import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../lib/schema/contract.js';
import { parseCsv } from '../scripts/check/csv.js';
import { startFederation, type Federation } from './support/federation.js';
import { seedNode } from './support/seed-node.js';

/**
 * `npm run check` as a customs officer runs it: the compiled CLI (dist/scripts/check.js) as a real
 * process against a real federation, reading a manifest file or stdin, writing rows, exiting with a code.
 */
const root = repoRoot();
const cli = join(root, 'dist/scripts/check.js');

let fed: Federation;
let folder: string;
let admit: string[];
const notRegistered = 'CNCHEKM00001' + '9'.repeat(17);
const foreign = 'ZZCHEKM00001' + '1'.padStart(17, '0');

beforeAll(async () => {
  await promisify(execFile)(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'tsconfig.build.json'], { cwd: root });
  folder = mkdtempSync(join(tmpdir(), 'check-cli-'));
  fed = await startFederation([{ country: 'CN', name: 'China test registry' }]);
  admit = await seedNode(fed.nodes[0]!, 'CNCHEK', 'CNCHEKM00001', 3);
});

afterAll(async () => {
  await fed?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], stdin = ''): Promise<Run> {
  const env = { ...process.env };
  delete env.REGISTRY_TOKEN;
  delete env.REGISTRY_URL;
  delete env.INIT_CWD; // set under `npm test`; the CLI resolves paths against it as npm's cwd
  const child = spawn(process.execPath, [cli, ...args], { cwd: folder, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  child.stdin.end(stdin);
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const file = (name: string, text: string) => {
  const path = join(folder, name);
  writeFileSync(path, text);
  return path;
};

describe('npm run check against a federation', () => {
  it('writes one row per manifest line in order, with verdicts, reasons and the registry, and exits 2 for an UNKNOWN', async () => {
    const lower = `${admit[1]!.slice(0, 2).toLowerCase()}-${admit[1]!.slice(2, 6)}-${admit[1]!.slice(6, 12)}-${admit[1]!.slice(12)}`;
    const manifest = file(
      'manifest.csv',
      [
        'box,code,note',
        `1,${admit[0]},"first, on top"`,
        `1,${notRegistered},"said ""new"""`,
        '',
        `2,CN-BAD,`,
        `2,${foreign},`,
        `3,${lower},written by hand`,
        `3,${admit[0]},the same robot again`,
      ].join('\n'),
    );
    const run = await runCli([manifest, '--url', fed.gateway.url, '--out', 'verdicts.json']);
    expect(run.stderr).toContain('checked 6 codes (5 distinct)');
    expect(run.code).toBe(2);
    const rows = JSON.parse(readFileSync(join(folder, 'verdicts.json'), 'utf8'));
    expect(rows.map((r: any) => [r.line, r.input, r.code, r.verdict, r.reasons.map((x: any) => x.code).join(';'), r.registry?.name ?? null])).toEqual([
      [2, admit[0], admit[0], 'ADMIT', '', 'China test registry'],
      [3, notRegistered, notRegistered, 'REFUSE', 'NOT_REGISTERED', 'China test registry'],
      [5, 'CN-BAD', '', 'REFUSE', 'MALFORMED_CODE', null],
      [6, foreign, foreign, 'UNKNOWN', 'UNKNOWN_COUNTRY', null],
      [7, lower, admit[1], 'ADMIT', '', 'China test registry'],
      [8, admit[0], admit[0], 'ADMIT', '', 'China test registry'],
    ]);
    expect(rows[2].reasons[0].message).toMatch(/29 characters/);
    // Not a terminal: plain progress lines, then the summary by verdict and reason.
    expect(run.stderr).toContain('6/6 codes (100%)');
    expect(run.stderr).toMatch(/REFUSE +2 +MALFORMED_CODE 1, NOT_REGISTERED 1/);
    expect(run.stderr).toMatch(/UNKNOWN +1 +UNKNOWN_COUNTRY 1/);
  });

  it('reads codes from stdin and writes CSV to stdout: exit 0 when all ADMIT, 1 when one is REFUSE', async () => {
    const allGood = await runCli(['--url', fed.gateway.url], `${admit.join('\n')}\n`);
    expect(allGood.code).toBe(0);
    const rows = parseCsv(allGood.stdout).map((r) => r.fields);
    expect(rows[0]).toEqual(['line', 'input', 'code', 'verdict', 'reasons', 'registry', 'registry_name']);
    expect(rows.slice(1).map((r) => [r[0], r[2], r[3], r[5]])).toEqual(admit.map((c, i) => [String(i + 1), c, 'ADMIT', 'CN']));

    const oneRefused = await runCli(['-', '--url', fed.gateway.url, '--quiet'], `${admit[0]}\n${notRegistered}\n`);
    expect(oneRefused.code).toBe(1);
    expect(oneRefused.stderr).not.toContain('codes (100%)');
  });

  it('retries a 503 and a 429 (Retry-After) on the way, and still answers every code', async () => {
    const proxy = await startFlakyProxy(fed.gateway.url, [
      { status: 503, body: 'upstream restarting' },
      { status: 429, headers: { 'retry-after': '0' }, body: JSON.stringify({ errors: [{ message: 'slow down', extensions: { code: 'RATE_LIMITED', max: 3000, actual: 3 } }] }) },
    ]);
    try {
      const run = await runCli([file('flaky.txt', `${admit.join('\n')}\n`), '--url', proxy.url, '--backoff', '0']);
      expect(run.code).toBe(0);
      expect(parseCsv(run.stdout).slice(1).map((r) => r.fields[3])).toEqual(['ADMIT', 'ADMIT', 'ADMIT']);
      expect(proxy.answered).toEqual([503, 429, 200]);
      expect(run.stderr).toContain('HTTP_503');
    } finally {
      await proxy.stop();
    }
  });

  it('sends again the codes answered REGISTRY_UNAVAILABLE inside a good answer', async () => {
    const proxy = await startFlakyProxy(fed.gateway.url, [], (answer) => {
      Object.assign(answer.data.verifyMany[1], { verdict: 'UNKNOWN', reasons: [{ code: 'REGISTRY_UNAVAILABLE', message: 'registry CN did not answer' }] });
      return answer;
    });
    try {
      const run = await runCli([file('unavailable.txt', `${admit.join('\n')}\n`), '--url', proxy.url, '--backoff', '0']);
      expect(run.code).toBe(0);
      expect(parseCsv(run.stdout).slice(1).map((r) => r.fields[3])).toEqual(['ADMIT', 'ADMIT', 'ADMIT']);
      expect(proxy.sent).toEqual([admit, [admit[1]]]);
    } finally {
      await proxy.stop();
    }
  });

  it('turns a chunk that keeps failing into FAILED rows, and exits 2', async () => {
    const proxy = await startFlakyProxy(fed.gateway.url, Array.from({ length: 3 }, () => ({ status: 502, body: 'bad gateway' })));
    try {
      const run = await runCli([file('failing.txt', `${admit[0]}\n`), '--url', proxy.url, '--backoff', '0', '--retries', '2']);
      expect(run.code).toBe(2);
      expect(parseCsv(run.stdout)[1]!.fields.slice(2, 5)).toEqual([admit[0], 'FAILED', 'HTTP_502']);
      expect(run.stderr).toMatch(/FAILED +1 +HTTP_502 1/);
    } finally {
      await proxy.stop();
    }
  });

  it('stops before sending any code when the gateway refuses the token', async () => {
    const run = await runCli([file('token.txt', `${admit[0]}\n`), '--url', fed.gateway.url, '--token', 'not-a-token']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`cannot use the gateway at ${fed.gateway.url}: UNAUTHENTICATED`);
    expect(run.stdout).toBe('');
  });
});

describe('npm run check usage errors', () => {
  it('exits 64 naming the problem: unknown option, unreadable manifest, missing column, unparseable JSON', async () => {
    const cases: [string[], string][] = [
      [['--colum', 'x'], "Unknown option '--colum'"],
      [['missing.csv'], 'cannot read the manifest missing.csv: ENOENT'],
      [[file('cols.csv', 'box,unit\n1,CN1\n')], 'the CSV header has no "code" column (columns: "box", "unit"); name one with --column'],
      [[file('broken.json', '["CN1",')], 'the JSON manifest does not parse'],
      [['--concurrency', '20'], '--concurrency must be a whole number from 1 to 8'],
    ];
    for (const [args, message] of cases) {
      const run = await runCli(args);
      expect({ args, code: run.code }).toEqual({ args, code: 64 });
      expect(run.stderr).toContain(message);
    }
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit codes: 0 every code ADMIT');
  });
});

/**
 * A proxy in front of the gateway that gives the scripted answers to the first verifyMany requests (the
 * CLI's start-up call passes through), then forwards everything; `tamper` rewrites the first forwarded
 * verifyMany answer. `sent` records the codes of every forwarded verifyMany.
 */
async function startFlakyProxy(
  target: string,
  script: { status: number; headers?: Record<string, string>; body: string }[],
  tamper?: (answer: any) => unknown,
) {
  const answered: number[] = [];
  const sent: string[][] = [];
  const pending = [...script];
  let tampered = false;
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', async () => {
      const isCheck = text.includes('CheckManifest');
      const scripted = isCheck ? pending.shift() : undefined;
      if (scripted) {
        answered.push(scripted.status);
        res.writeHead(scripted.status, { 'content-type': 'application/json', ...scripted.headers });
        res.end(scripted.body);
        return;
      }
      const upstream = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text });
      let body = await upstream.text();
      if (isCheck) {
        answered.push(upstream.status);
        sent.push(JSON.parse(text).variables.codes);
        if (tamper && !tampered) {
          tampered = true;
          body = JSON.stringify(tamper(JSON.parse(body)));
        }
      }
      res.writeHead(upstream.status, { 'content-type': 'application/json' });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    answered,
    sent,
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
