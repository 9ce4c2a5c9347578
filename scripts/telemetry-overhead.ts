import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { DEFAULT_AUDIENCE, DEVELOPMENT_ISSUER, ensureDevelopmentKey, signToken } from '../gateway/identity/development-key.js';
import { isReadyMessage, type ReadyMessage } from './ready-message.js';

/**
 * `npm run telemetry-overhead -- [--seconds 8] [--rounds 3] [--units 20000] [--concurrency 4]`: what metrics
 * and traces cost. Needs DATABASE_URL (a Postgres server; a database of its own is made and dropped).
 * Four gateway + registry node pairs, all on one seeded database: `default` (metrics on, tracing off),
 * `metrics-off` (METRICS=off), `tracing` (metrics on, spans exported over OTLP to a sink in this process
 * that discards them) and `unsampled` (tracing loaded, OTEL_TRACES_SAMPLER=always_off: the cost of context
 * propagation and instrumentation without spans). Each scenario is run round by round, the variants interleaved in rotating order, so
 * that the machine's other load falls on all three alike (after one unmeasured warm-up run each); the figure to trust is CPU milliseconds per request
 * of the gateway and node processes (from /proc), not requests per second. Prints figures, asserts nothing.
 */
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
    units: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '4' },
  },
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const concurrency = Number(values.concurrency);
const baseUrl = process.env.DATABASE_URL?.trim();
if (!baseUrl) {
  console.error('telemetry-overhead needs DATABASE_URL (a Postgres server; it makes and drops a database of its own)');
  process.exit(2);
}

const script = (name: string) => fileURLToPath(new URL(`./${name}.js`, import.meta.url));
const register = new URL('../lib/telemetry/register.js', import.meta.url).href;
const database = `telemetry_overhead_${process.pid}`;
const url = new URL(baseUrl);
url.pathname = `/${database}`;
const admin = new pg.Client({ connectionString: baseUrl });
await admin.connect();
await admin.query(`create database ${database}`);
const work = mkdtempSync(join(tmpdir(), 'telemetry-overhead-'));
const children: ChildProcess[] = [];
let exported = 0;
const sink = createServer((req, res) => {
  req.on('data', (chunk: Buffer) => (exported += chunk.length));
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
});
await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));

try {
  console.log(`seeding ${values.units} units into ${database}...`);
  execFileSync(process.execPath, [script('seed'), '--units', values.units!, '--events-per-unit', '2', '--database-url', url.href], { stdio: ['ignore', 'ignore', 'inherit'] });
  const check = new pg.Client({ connectionString: url.href });
  await check.connect();
  const codes = (await check.query<{ code: string }>('select code from units.unit order by code limit 5000')).rows.map((r) => r.code);
  await check.end();

  const secret = randomBytes(32).toString('hex');
  const pointsFile = join(work, 'points.json');
  writeFileSync(pointsFile, JSON.stringify({ 'telemetry-overhead': 1_000_000_000_000 }));
  const { privateJwk } = await ensureDevelopmentKey(work);
  const token = await signToken(privateJwk, { subject: 'telemetry-overhead', role: 'authority', issuer: DEVELOPMENT_ISSUER, audience: DEFAULT_AUDIENCE, ttl: '4h' });
  const common = { NODE_SIGNING_SECRET: secret, LOG_LEVEL: 'warn', NODE_ENV: 'development', OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_TRACES_SAMPLER: '', METRICS: '' };
  const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
  const variants = [
    { name: 'default', env: {}, execArgv: [] as string[] },
    { name: 'metrics-off', env: { METRICS: 'off' }, execArgv: [] },
    { name: 'tracing', env: { OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl }, execArgv: ['--import', register] },
    // Tracing loaded but no request sampled: what context propagation and instrumentation cost by themselves.
    { name: 'unsampled', env: { OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl, OTEL_TRACES_SAMPLER: 'always_off' }, execArgv: ['--import', register] },
  ];
  const started = [];
  for (const variant of variants) {
    const env = { ...process.env, ...common, ...variant.env };
    const node = await start<'registry-node'>(script('registry-node'), ['--country', 'CN', '--name', 'CN registry', '--port', '0'], { ...env, DATABASE_URL: url.href }, variant.execArgv);
    const home = { name: node.name, countries: ['CN'], home: true, subgraphs: node.urls };
    const gateway = await start<'gateway'>(script('gateway'), ['--home', JSON.stringify(home)], { ...env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: work, GATEWAY_SUBJECT_POINTS_FILE: pointsFile }, variant.execArgv);
    started.push({ ...variant, gateway, node });
  }

  let next = 0;
  const scenarios = [
    {
      name: 'Q1 unit',
      body: () => ({ query: 'query Q1($c: ID!) { unit(code: $c) { code state model { name } enterprise { name } } }', variables: { c: codes[next++ % codes.length] } }),
    },
    {
      name: 'verifyMany(1000)',
      body: () => {
        const from = (next++ * 1000) % (codes.length - 1000);
        return { query: 'query V($c: [String!]!) { verifyMany(codes: $c) { verdict } }', variables: { c: codes.slice(from, from + 1000) } };
      },
    },
  ];
  console.log(`\n${rounds} rounds of ${seconds} s per variant, ${concurrency} clients; CPU ms per request (gateway + node processes)`);
  for (const scenario of scenarios) {
    const totals = new Map(started.map((v) => [v.name, { requests: 0, gatewayMs: 0, nodeMs: 0, wallMs: 0, rounds: [] as number[] }]));
    // One unmeasured run per variant first: JIT, connection pools and caches warm up alike.
    for (const variant of started) await load(variant.gateway.url, token, scenario.body);
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < started.length; i++) {
        const variant = started[(round + i) % started.length]!;
        const before = { gateway: cpuMs(variant.gateway.pid), node: cpuMs(variant.node.pid), at: performance.now() };
        const requests = await load(variant.gateway.url, token, scenario.body);
        const total = totals.get(variant.name)!;
        const gatewayMs = cpuMs(variant.gateway.pid) - before.gateway;
        const nodeMs = cpuMs(variant.node.pid) - before.node;
        total.requests += requests;
        total.gatewayMs += gatewayMs;
        total.nodeMs += nodeMs;
        total.rounds.push((gatewayMs + nodeMs) / requests);
        total.wallMs += performance.now() - before.at;
      }
    }
    console.log(`\n${scenario.name}`);
    console.log('variant       requests  req/s   gateway ms/req  node ms/req  total ms/req  (per round)');
    const base = totals.get('default')!;
    const perRequest = (t: typeof base) => (t.gatewayMs + t.nodeMs) / t.requests;
    for (const [name, t] of totals) {
      const vsDefault = name === 'default' ? '' : `  (${signed(((perRequest(t) - perRequest(base)) / perRequest(base)) * 100)}% vs default)`;
      console.log(
        `${name.padEnd(12)}  ${String(t.requests).padStart(8)}  ${(t.requests / (t.wallMs / 1000)).toFixed(0).padStart(5)}   ${(t.gatewayMs / t.requests).toFixed(2).padStart(14)}  ${(t.nodeMs / t.requests).toFixed(2).padStart(11)}  ${perRequest(t).toFixed(2).padStart(12)}  (${t.rounds.map((r) => r.toFixed(2)).join(' ')})${vsDefault}`,
      );
    }
  }
  console.log(`\nspans exported by the tracing variant: ${(exported / 1e6).toFixed(1)} MB of OTLP/JSON`);
} finally {
  await Promise.all(children.map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve).kill('SIGTERM')))));
  sink.close();
  await admin.query(`drop database if exists ${database} with (force)`);
  await admin.end();
  rmSync(work, { recursive: true, force: true });
}

function start<R extends 'registry-node' | 'gateway'>(file: string, args: string[], env: NodeJS.ProcessEnv, execArgv: string[]) {
  const child = fork(file, args, { env, execArgv, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  children.push(child);
  return new Promise<Extract<ReadyMessage, { role: R }>>((resolve, reject) => {
    child.on('message', (message) => isReadyMessage(message) && resolve(message as Extract<ReadyMessage, { role: R }>));
    child.once('exit', (code) => reject(new Error(`${file} exited (${code}) before it was ready`)));
  });
}

/** User + system CPU time of a process so far, from /proc (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** `concurrency` clients posting for `seconds`; the number of answered requests (an error in an answer stops the run). */
async function load(gatewayUrl: string, token: string, body: () => object): Promise<number> {
  const until = performance.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const response = await fetch(gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body()) });
        const answer = (await response.json()) as { errors?: unknown[] };
        if (answer.errors?.length) throw new Error(`an answer with errors: ${JSON.stringify(answer.errors).slice(0, 300)}`);
        done++;
      }
    }),
  );
  return done;
}

function signed(n: number): string {
  return `${n >= 0 ? '+' : ''}${n.toFixed(1)}`;
}
