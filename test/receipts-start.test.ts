import { execFile, fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { repoRoot } from '../lib/schema/contract.js';
import { isReadyMessage, type ReadyMessage } from '../scripts/ready-message.js';
import { RECEIPT_EXIT } from '../scripts/receipt.js';

// The README's STOLEN demo code.
const STOLEN = 'CNHMRBH1A00100000000000000007';

/**
 * The "done" line of issue 13: a receipt made by `npm start` (the compiled launcher, as in
 * test/processes.test.ts) verifies offline with the command and its keys file, and fails when one
 * character is changed. The embedded database whatever the suite runs on.
 */
const root = repoRoot();
let dataDir: string;
let child: ChildProcess;
let gatewayUrl: string;
const run = (args: string[]) =>
  promisify(execFile)(process.execPath, [join(root, 'dist/scripts/receipt.js'), ...args], { cwd: root, env: { ...process.env, DATA_DIR: dataDir } }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

beforeAll(async () => {
  await promisify(execFile)(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'tsconfig.build.json'], { cwd: root });
  dataDir = mkdtempSync(join(tmpdir(), 'receipts-start-'));
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  delete env.DIRECTORY_FILE;
  delete env.NODE_ENV;
  delete env.VITEST;
  child = fork(join(root, 'dist/scripts/start.js'), [], { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const ready = await new Promise<Extract<ReadyMessage, { role: 'launcher' }>>((resolve, reject) => {
    child.on('message', (m) => isReadyMessage(m) && m.role === 'launcher' && resolve(m));
    child.once('exit', (code) => reject(new Error(`launcher exited (${code}) before it was ready: ${stderr}`)));
  });
  gatewayUrl = ready.gateway.url;
}, 180_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

it('a receipt made by npm start verifies offline with the keys file, and fails when one character changes', async () => {
  const response = await fetch(gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: `{ verify(code: "${STOLEN}") { verdict receipt } }` }),
  });
  const { data } = (await response.json()) as { data: { verify: { verdict: string; receipt: string } } };
  expect(data.verify.verdict).toBe('REFUSE');
  // The development key file: the command keeps only its public parts.
  const keys = join(dataDir, 'receipt-keys', 'keys.json');
  expect(JSON.parse(readFileSync(keys, 'utf8')).keys[0].kid).toMatch(/^receipt-/);
  const good = await run(['verify', data.verify.receipt, '--keys', keys]);
  expect(good.code, good.stderr).toBe(0);
  expect(good.stdout).toContain(`code:      ${STOLEN}`);
  expect(good.stdout).toContain('reasons:   STOLEN');
  const parts = data.verify.receipt.split('.');
  const at = 10;
  parts[1] = parts[1]!.slice(0, at) + (parts[1]![at] === 'A' ? 'B' : 'A') + parts[1]!.slice(at + 1);
  const bad = await run(['verify', parts.join('.'), '--keys', keys]);
  expect(bad.code).toBe(RECEIPT_EXIT.signature);
  // `keys` exports the same public keys for a customs post.
  const exported = await run(['keys']);
  expect(JSON.parse(exported.stdout).keys[0]).not.toHaveProperty('d');
});
