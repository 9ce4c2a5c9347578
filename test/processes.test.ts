import { execFile, fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_AUDIENCE, DEVELOPMENT_ISSUER, ensureDevelopmentKey, signToken } from '../gateway/identity/development-key.js';
import { repoRoot } from '../lib/schema/contract.js';
import { EXIT_CODES } from '../lib/server/shutdown.js';
import { DEMO_CODES, VERDICT_EXAMPLES } from '../scripts/demo/seed.js';
import { isReadyMessage, type ReadyMessage } from '../scripts/ready-message.js';

/**
 * `npm start` as a user runs it: the compiled launcher (dist/) as a real process, which forks the
 * registry node and the gateway. The build is incremental, so this costs a second when dist/ is current.
 */
const root = repoRoot();
type LauncherReady = Extract<ReadyMessage, { role: 'launcher' }>;

interface Launcher {
  process: ChildProcess;
  ready: Promise<LauncherReady>;
  exited: Promise<number | null>;
  /** Resolves with the first JSON log line matching. */
  logLine(match: (line: { name?: string; msg?: string }) => boolean): Promise<void>;
}

const running: ChildProcess[] = [];
const folders: string[] = [];

function startLauncher(): Launcher {
  const dataDir = mkdtempSync(join(tmpdir(), 'launcher-'));
  folders.push(dataDir);
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', DATA_DIR: dataDir, LOG_FORMAT: 'json', LOG_LEVEL: 'info' };
  delete env.DATABASE_URL; // the embedded database, whatever the suite runs on
  delete env.DIRECTORY_FILE;
  // As from a shell: vitest's NODE_ENV=test would, for one, turn off Apollo's own signal handlers.
  delete env.NODE_ENV;
  delete env.VITEST;
  const child = fork(join(root, 'dist/scripts/start.js'), [], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  running.push(child);
  const lines = createInterface({ input: child.stdout! });
  const watchers: { match: (line: { name?: string; msg?: string }) => boolean; resolve: () => void }[] = [];
  lines.on('line', (text) => {
    if (!text.startsWith('{"')) return; // log lines; the banner is plain text
    const line = JSON.parse(text) as { name?: string; msg?: string };
    for (const w of watchers.filter((w) => w.match(line))) w.resolve();
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<LauncherReady>((resolve, reject) => {
    child.on('message', (m) => isReadyMessage(m) && m.role === 'launcher' && resolve(m));
    child.once('exit', (code) => reject(new Error(`launcher exited (${code}) before it was ready: ${stderr}`)));
  });
  return { process: child, ready, exited, logLine: (match) => new Promise((resolve) => watchers.push({ match, resolve })) };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
/** A process that is not ours ends as a zombie until its new parent reaps it: it counts as gone. */
const isRunning = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[0] !== 'Z';
  } catch {
    return false;
  }
};
/** Resolves when the process has exited; its last file closed a moment earlier, so this re-checks until then. */
async function goneSoon(pid: number): Promise<boolean> {
  for (let i = 0; i < 200 && isRunning(pid); i++) await new Promise((r) => setTimeout(r, 50));
  return !isRunning(pid);
}
const parentOf = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
const commandOf = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8');
const portOf = (url: string) => Number(new URL(url).port);
/** Resolves when something can listen on the port again. */
const canListen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

async function query(url: string, q: string) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: q }) });
  return (await response.json()) as { data?: any; errors?: unknown[] };
}

beforeAll(async () => {
  await promisify(execFile)(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'tsconfig.build.json'], { cwd: root });
});

afterEach(() => {
  for (const child of running.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

// Each test starts the whole house and seeds the demo data (about half a minute on two busy cores).
/**
 * These drills start `npm start` on the embedded database whatever DATABASE_URL says, so CI runs them once:
 * in its embedded pass, not again in its Postgres pass.
 */
const ONCE_IN_CI = !!process.env.DATABASE_URL;

describe.skipIf(ONCE_IN_CI)('npm start (scripts/start.ts)', { timeout: 240_000 }, () => {
  it('runs the node and the gateway as two processes, and SIGTERM drains a request in flight, stops both in order and exits 0', async () => {
    const launcher = startLauncher();
    const ready = await launcher.ready;
    const launcherPid = launcher.process.pid!;

    // Two child processes of the launcher: the gateway and the registry node.
    expect(ready.gateway.pid).not.toBe(ready.node.pid);
    expect(parentOf(ready.gateway.pid)).toBe(launcherPid);
    expect(parentOf(ready.node.pid)).toBe(launcherPid);
    expect(commandOf(ready.gateway.pid)).toContain('dist/scripts/gateway.js');
    expect(commandOf(ready.node.pid)).toContain('dist/scripts/registry-node.js');

    // The demo data answers through the gateway, read from the node.
    const unit = `{ unit(code: "${DEMO_CODES.unit}") { code model { code } } }`;
    expect((await query(ready.gateway.url, unit)).data?.unit).toEqual({ code: DEMO_CODES.unit, model: { code: DEMO_CODES.model } });

    // A request whose headers the gateway has taken (100 Continue) but whose body is not sent yet.
    const body = JSON.stringify({ query: unit });
    const req = request(ready.gateway.url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue' } });
    const answer = new Promise<{ status: number; body: any }>((resolve, reject) => {
      req.once('response', (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
      });
      req.once('error', reject);
    });
    await new Promise((resolve) => req.once('continue', resolve));

    const gatewayStopping = launcher.logLine((l) => l.name === 'gateway' && /^SIGTERM/.test(l.msg ?? ''));
    launcher.process.kill('SIGTERM');
    await gatewayStopping;
    req.end(body);

    // The request in flight finishes (the node is still up: it stops after the gateway).
    const finished = await answer;
    expect(finished.status).toBe(200);
    expect(finished.body.data.unit).toEqual({ code: DEMO_CODES.unit, model: { code: DEMO_CODES.model } });
    expect(await launcher.exited).toBe(0);

    // No orphan, every port free again.
    expect(alive(ready.gateway.pid)).toBe(false);
    expect(alive(ready.node.pid)).toBe(false);
    for (const url of [ready.gateway.url, ...Object.values(ready.node.urls)]) expect(await canListen(portOf(url!)), url).toBe(true);
  });

  it('stops the gateway and exits non-zero when the registry node dies', async () => {
    const launcher = startLauncher();
    const ready = await launcher.ready;
    const failure = launcher.logLine((l) => l.name === 'launcher' && (l.msg ?? '').includes('registry node'));
    process.kill(ready.node.pid, 'SIGKILL');
    await failure;
    expect(await launcher.exited).toBe(1);
    expect(alive(ready.gateway.pid)).toBe(false);
  });
});

/** A POST whose headers the server has taken (100 Continue) and whose body is sent later: in flight for sure. */
function heldRequest(url: string, query: string, variables: object, authorization: string) {
  const body = JSON.stringify({ query, variables });
  const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue', authorization } });
  const answer = new Promise<{ status: number; body: any }>((resolve, reject) => {
    req.once('response', (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    });
    req.once('error', reject);
  });
  const accepted = new Promise((resolve) => req.once('continue', resolve));
  return { accepted, send: () => req.end(body), answer };
}

describe.skipIf(ONCE_IN_CI)('npm start through npm itself', { timeout: 240_000 }, () => {
  it('SIGTERM to the npm process under verifyMany load: every in-flight request is answered in full, the house stops with 0, no orphan, ports free', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'npm-start-'));
    folders.push(dataDir);
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', DATA_DIR: dataDir, LOG_FORMAT: 'json', LOG_LEVEL: 'info' };
    delete env.DATABASE_URL;
    delete env.DIRECTORY_FILE;
    delete env.NODE_ENV;
    delete env.VITEST;
    const npm = spawn('npm', ['start'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    running.push(npm);
    const npmExited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => npm.once('exit', (code, signal) => resolve({ code, signal })));
    // npm, its shell, the launcher and both children all write to this pipe: it closes when the last one exits.
    const allGone = new Promise<void>((resolve) => npm.stdout!.once('close', resolve));
    const logs: { name?: string; msg?: string; exitCode?: number; drainMs?: number }[] = [];
    const watchers: { match: (l: (typeof logs)[number]) => boolean; resolve: (l: (typeof logs)[number]) => void }[] = [];
    const logLine = (match: (l: (typeof logs)[number]) => boolean) => new Promise<(typeof logs)[number]>((resolve) => watchers.push({ match, resolve }));
    let banner = '';
    const bannerDone = new Promise<void>((resolve) =>
      createInterface({ input: npm.stdout! }).on('line', (text) => {
        if (!text.startsWith('{"')) {
          banner += `${text}\n`;
          if (text.startsWith('Ctrl+C')) resolve();
          return;
        }
        const line = JSON.parse(text);
        logs.push(line);
        for (const w of watchers.filter((w) => w.match(line))) w.resolve(line);
      }),
    );
    await Promise.race([bannerDone, npmExited.then((e) => Promise.reject(new Error(`npm start exited early: ${JSON.stringify(e)}`)))]);
    const gatewayUrl = /GraphQL endpoint[^\n]*\n\s*(\S+)/.exec(banner)![1]!;
    const nodePid = Number(/registry node pid (\d+)/.exec(banner)![1]);
    const gatewayPid = Number(/gateway pid (\d+)/.exec(banner)![1]);
    const nodeUrls = [...(/registry node pid \d+ \(([^)]*)\)/.exec(banner)![1]!.matchAll(/http:\S+?\/graphql/g))].map((m) => m[0]);
    const launcherPid = parentOf(gatewayPid);
    expect(parentOf(nodePid)).toBe(launcherPid);
    expect(commandOf(launcherPid)).toContain('dist/scripts/start.js');

    // Load: 40 containers of codes, half of them held in flight (headers taken, body not yet sent). As
    // customs posts with tokens of the development key, one subject each: a caller may have only a few
    // requests in flight (429 TOO_MANY_IN_FLIGHT), and the drill is about stopping, not about that limit.
    const { privateJwk } = await ensureDevelopmentKey(dataDir);
    const tokens = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => `Bearer ${await signToken(privateJwk, { subject: `customs-post-${i}`, role: 'customs', country: 'CN', issuer: DEVELOPMENT_ISSUER, audience: DEFAULT_AUDIENCE, ttl: '10m' })}`),
    );
    const codes = Object.values(VERDICT_EXAMPLES);
    const verifyMany = `query($c: [String!]!) { verifyMany(codes: $c) { code verdict } }`;
    // In flight means taken by the gateway: a connection still in the kernel's queue when the gateway stops
    // listening is refused (reset), as "stop accepting" says, so every request here waits for its 100 Continue.
    const held = Array.from({ length: 20 }, (_, i) => heldRequest(gatewayUrl, verifyMany, { c: codes }, tokens[i]!));
    const flowing = Array.from({ length: 20 }, (_, i) => heldRequest(gatewayUrl, verifyMany, { c: codes }, tokens[20 + i]!));
    await Promise.all([...held, ...flowing].map((h) => h.accepted));
    for (const f of flowing) f.send(); // executing (or answered) when the signal comes

    const gatewayStopping = logLine((l) => l.name === 'gateway' && /^SIGTERM/.test(l.msg ?? ''));
    const launcherStopped = logLine((l) => l.name === 'launcher' && /^stopped/.test(l.msg ?? ''));
    npm.kill('SIGTERM');
    await gatewayStopping;
    for (const h of held) h.send();

    const answers = await Promise.all([...held, ...flowing].map((r) => r.answer));
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.body.errors).toBeUndefined();
      expect(answer.body.data.verifyMany.map((v: { code: string }) => v.code)).toEqual(codes);
    }
    const stopped = await launcherStopped;
    expect(stopped.exitCode).toBe(0);
    await allGone;
    // `npm start` execs the launcher (no shell in between), so npm reports the launcher's clean exit.
    expect(await npmExited).toEqual({ code: 0, signal: null });
    for (const pid of [launcherPid, gatewayPid, nodePid]) expect(await goneSoon(pid), `pid ${pid}`).toBe(true);
    for (const url of [gatewayUrl, ...nodeUrls]) expect(await canListen(portOf(url)), url).toBe(true);
    expect(nodeUrls.length).toBeGreaterThanOrEqual(4);
    const drains = logs.filter((l) => l.drainMs !== undefined).map((l) => `${l.name} ${l.drainMs} ms`).join(', ');
    console.log(`npm start SIGTERM drill: ${answers.length} verifyMany answered in full, launcher exit ${stopped.exitCode}; drain: ${drains}`);
  });
});

describe.skipIf(ONCE_IN_CI)('stopOnSignals (lib/server/shutdown.ts) in a real process', { timeout: 60_000 }, () => {
  /** A process whose stop() finishes only when told over IPC. */
  function stopper(options: { timeoutMs: number }) {
    const code = `
      import { stopOnSignals } from ${JSON.stringify(join(root, 'dist/lib/server/shutdown.js'))};
      let finish;
      stopOnSignals(() => new Promise((resolve) => (finish = resolve)), { timeoutMs: ${options.timeoutMs} });
      process.on('message', (m) => m === 'finish' && finish?.());
      process.send('ready');
      setInterval(() => undefined, 60_000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { env: { ...process.env, LOG_FORMAT: 'json', LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    running.push(child);
    const lines: string[] = [];
    const stopping = new Promise<void>((resolve) =>
      createInterface({ input: child.stdout! }).on('line', (line) => (lines.push(line), /finishing in-flight/.test(line) && resolve())),
    );
    const ready = new Promise((resolve) => child.once('message', resolve));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    return { child, ready, stopping, exited, lines };
  }

  it('exits 0 once the stop has finished', async () => {
    const p = stopper({ timeoutMs: 60_000 });
    await p.ready;
    p.child.kill('SIGTERM');
    await p.stopping;
    p.child.send('finish');
    expect(await p.exited).toBe(EXIT_CODES.clean);
    expect(p.lines.join('\n')).toMatch(/stopped cleanly/);
  });

  it('cuts a stop that outlives its deadline and says so with exit 3', async () => {
    const p = stopper({ timeoutMs: 200 });
    await p.ready;
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(EXIT_CODES.drainDeadline);
    expect(p.lines.join('\n')).toMatch(/longer than 200 ms/);
  });

  it('exits at once with 4 on a second signal', async () => {
    const p = stopper({ timeoutMs: 60_000 });
    await p.ready;
    p.child.kill('SIGTERM');
    await p.stopping;
    p.child.kill('SIGINT');
    expect(await p.exited).toBe(EXIT_CODES.forced);
  });
});

describe.skipIf(ONCE_IN_CI)('npm run registry -- --demo (scripts/registry-node.ts)', { timeout: 120_000 }, () => {
  it('seeds a partner node of its own as the node itself, and a restart answers the same demo units (issued under one request key)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'registry-demo-'));
    const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, NODE_SIGNING_SECRET: '', LOG_LEVEL: 'error' };
    delete env.VITEST;
    delete env.DATABASE_URL;
    // Runs the node until it prints its directory entry; returns what it printed.
    const run = async () => {
      const child = spawn(process.execPath, [join(root, 'dist/scripts/registry-node.js'), '--country', 'DE', '--port', '0', '--demo'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      let printed = '';
      for await (const line of createInterface({ input: child.stdout! })) {
        printed += `${line}\n`;
        if (line.startsWith('}')) break;
      }
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      return printed;
    };
    try {
      const first = await run();
      expect(first).toContain('demo: 10 units of model DEPRTNP10001');
      const again = await run();
      expect(again).toContain('demo: 10 units of model DEPRTNP10001, e.g. DEPRTNP1000100000000000000001');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
