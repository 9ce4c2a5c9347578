import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../lib/schema/contract.js';
import { BackendWatch, benchDatabaseUrl, recreateDatabase, seedData } from './bench/bench-database.js';
import { cpuMs, rssMb } from './bench/child-process.js';
import { benchQueries, type BenchQuery } from './bench/queries.js';
import { writeResults, type BenchResult } from './bench/report.js';
import { normalised, summarise, type Cell } from './bench/stats.js';
import { directTarget, ensurePeersInstalled, loadGenerator, newSigningSecret, startNode, startOurGateway, startOurOpenGateway, startPeers, type Target } from './bench/targets.js';

/**
 * `npm run bench`: our gateway against its peers on the same subgraphs and data (docs: README "Benchmark").
 * One CN registry node on Postgres requiring signed requests behind our gateway; an unsigned twin of it over
 * the same database behind the peers; interleaved rounds, every target on every query it can answer.
 * Prints and writes figures (bench/results/), never asserts them. `--soak 300`: our gateway's RSS over a run.
 */
const usage = 'usage: npm run bench -- [--units 20000] [--events-per-unit 3] [--seconds 3] [--rounds 3] [--connections 10] [--fresh] [--only Q1,Q2] [--soak 300] [--out latest] [--note text]';
const { values } = parseArgs({
  options: {
    units: { type: 'string', default: '20000' },
    'events-per-unit': { type: 'string', default: '3' },
    seconds: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '10' },
    fresh: { type: 'boolean', default: false },
    only: { type: 'string' },
    soak: { type: 'string' },
    out: { type: 'string' },
    note: { type: 'string' },
  },
});
const number = (name: keyof typeof values, min: number) => {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < min) {
    console.error(`--${name} must be a whole number of at least ${min} (got ${values[name]})\n${usage}`);
    process.exit(2);
  }
  return n;
};
const plan = { units: number('units', 100), eventsPerUnit: number('events-per-unit', 1) };
const seconds = number('seconds', 1);
const rounds = number('rounds', 1);
const connections = number('connections', 1);
const soakSeconds = values.soak === undefined ? undefined : number('soak', 10);

const serverUrl = process.env.DATABASE_URL?.trim() || 'postgres://postgres@127.0.0.1:5432/postgres';
const databaseUrl = benchDatabaseUrl(serverUrl);
const loadAverageStart = loadavg();
ensurePeersInstalled();
const load = await loadGenerator();

const stops: (() => Promise<void>)[] = [];
let loader = 'kept from an earlier run';
const stopAll = async () => {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
};
process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));

try {
  // The signing node seeds (as itself); a database with another unit count is rebuilt.
  const secret = newSigningSecret();
  await recreateDatabase(serverUrl, values.fresh);
  let signedNode = await startNode(databaseUrl, secret);
  const existing = await signedNode.call<number>('unitCount');
  if (existing !== plan.units) {
    if (existing > 0) {
      console.log(`bench_registry holds ${existing} units, not ${plan.units}: rebuilding it`);
      await signedNode.stop();
      await recreateDatabase(serverUrl, true);
      signedNode = await startNode(databaseUrl, secret);
    }
    loader = await seedData(signedNode, databaseUrl, plan);
  } else console.log(`bench_registry already holds ${existing} units (--fresh rebuilds it)`);
  stops.push(() => signedNode.stop());
  const openNode = await startNode(databaseUrl);
  stops.push(() => openNode.stop());
  const codes = await signedNode.call<string[]>('codes', { limit: Math.min(plan.units, 20_000) });
  const models = [...new Set(codes.map((c) => c.slice(0, 12)))];
  const watch = await BackendWatch.open(databaseUrl);
  stops.push(() => watch.close());

  if (soakSeconds !== undefined) {
    await soak(signedNode, secret, codes, models, watch, soakSeconds);
  } else {
    await compare(signedNode, openNode, secret, codes, models, watch);
  }
} finally {
  await stopAll();
}

async function startTargets(signedNode: Target['node'], openNode: Target['node'], secret: string): Promise<Target[]> {
  const targets = [await startOurGateway(signedNode, secret)];
  stops.push(() => targets[0]!.gateway!.stop());
  const open = await startOurOpenGateway(openNode);
  stops.push(() => open.gateway!.stop());
  const peers = await startPeers(openNode);
  for (const p of peers) stops.push(() => p.gateway!.stop());
  return [...targets, open, ...peers, directTarget(openNode)];
}

function supports(target: Target, query: BenchQuery): boolean {
  return target.kind === 'ours' || (target.kind === 'peer' && query.peers) || (target.kind === 'direct' && !!query.direct);
}

async function compare(signedNode: Target['node'], openNode: Target['node'], secret: string, codes: string[], models: string[], watch: BackendWatch) {
  const targets = await startTargets(signedNode, openNode, secret);
  const only = values.only?.split(',').map((s) => s.trim().toLowerCase());
  const queries = benchQueries(codes, models).filter((q) => !only || only.some((o) => q.name.toLowerCase().startsWith(o)));
  const rssBefore = Object.fromEntries(targets.filter((t) => t.gateway).map((t) => [t.name, rssMb(t.gateway!.pid)]));

  // Same data: a few sample requests per query, every gateway against ours.
  const sameData: BenchResult['sameData'] = {};
  for (const query of queries) {
    sameData[query.name] = {};
    const ours = targets[0]!;
    for (const target of targets.filter((t) => t.kind !== 'direct' && supports(t, query))) {
      let verdict: 'same' | 'different' = 'same';
      for (const i of [0, 1, 2]) {
        const [a, b] = await Promise.all([load.postOnce(ours.url, query.gateway(i), ours.headers), load.postOnce(target.url, query.gateway(i), target.headers)]);
        if (a.body.errors || b.body.errors || normalised(a.body.data) !== normalised(b.body.data)) {
          verdict = 'different';
          console.log(`${query.name}: ${target.name} differs from ours on sample ${i}: ${normalised(b.body).slice(0, 300)} vs ${normalised(a.body).slice(0, 300)}`);
        }
      }
      sameData[query.name]![target.name] = verdict;
    }
  }

  const cells = new Map<string, Cell>();
  const warmup = 1;
  console.log(`warming up every target for ${warmup} s per query (not counted)`);
  for (const query of queries) for (const target of targets.filter((t) => supports(t, query))) await measure(target, query, warmup, watch);
  for (let r = 0; r < rounds; r++) {
    for (const [qi, query] of queries.entries()) {
      const present = targets.filter((t) => supports(t, query));
      const shift = (r + qi) % present.length;
      for (const target of [...present.slice(shift), ...present.slice(0, shift)]) {
        const figures = await measure(target, query, seconds, watch);
        const key = `${target.name}|${query.name}`;
        const cell = cells.get(key) ?? { target: target.name, query: query.name, requests: 0, errors: 0, seconds: 0, latencies: [], cpuMs: { gateway: 0, node: 0, postgres: 0 }, statements: {} };
        cell.requests += figures.requests;
        cell.errors += figures.errors;
        cell.seconds += figures.seconds;
        cell.latencies.push(...figures.latencies);
        for (const k of ['gateway', 'node', 'postgres'] as const) cell.cpuMs[k] += figures.cpuMs[k];
        for (const [s, n] of Object.entries(figures.statements)) cell.statements[s] = (cell.statements[s] ?? 0) + n;
        cell.firstError ??= figures.firstError;
        cells.set(key, cell);
        console.log(`round ${r + 1}/${rounds}  ${query.name.padEnd(26)} ${target.name.padEnd(28)} ${(figures.requests / figures.seconds).toFixed(1).padStart(8)} req/s  errors ${figures.errors}`);
      }
    }
  }
  const rss = Object.fromEntries(targets.filter((t) => t.gateway).map((t) => [t.name, { beforeMb: rssBefore[t.name]!, afterMb: rssMb(t.gateway!.pid) }]));
  const result: BenchResult = {
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, loadAverageStart, loadAverageEnd: loadavg(), node: process.version, postgres: await watch.serverVersion(), date: new Date().toISOString() },
    settings: { units: plan.units, 'events per unit': plan.eventsPerUnit, 'data loaded': loader, rounds, 'seconds per target and query per round': seconds, connections },
    targets: targets.map((t) => t.name),
    queries: queries.map((q) => q.name),
    cells: [...cells.values()].map(summarise),
    sameData,
    rss,
    ...(values.note ? { note: values.note } : {}),
  };
  console.log('\n' + writeResults(join(repoRoot(), 'bench', 'results'), values.out ?? 'latest', result));
}

/** One target on one query for `secs`: its throughput, latencies, and the CPU and statements it cost. */
async function measure(target: Target, query: BenchQuery, secs: number, watch: BackendWatch) {
  const body = target.kind === 'direct' ? query.direct! : query.gateway;
  const pids = await watch.pids();
  const before = { gateway: target.gateway ? cpuMs(target.gateway.pid) : 0, node: cpuMs(target.node.pid), postgres: pids.map(cpuMs) };
  const statementsBefore = await target.node.call<Record<string, number>>('statements');
  const run = await load.runLoad({ url: target.url, connections, seconds: secs, headers: target.headers, body });
  const statementsAfter = await target.node.call<Record<string, number>>('statements');
  const pidsAfter = await watch.pids();
  // A backend that appeared during the run is counted from zero; one that went away is lost (pools keep theirs).
  const postgres = pidsAfter.reduce((sum, pid) => sum + cpuMs(pid) - (before.postgres[pids.indexOf(pid)] ?? 0), 0);
  return {
    ...run,
    latencies: Array.from(run.latencies),
    cpuMs: { gateway: target.gateway ? cpuMs(target.gateway.pid) - before.gateway : 0, node: cpuMs(target.node.pid) - before.node, postgres },
    statements: Object.fromEntries(Object.entries(statementsAfter).map(([s, n]) => [s, n - (statementsBefore[s] ?? 0)])),
  };
}

/** `--soak N`: our gateway (everything on) under Q1 for N seconds, its RSS sampled every 5 seconds. */
async function soak(signedNode: Target['node'], secret: string, codes: string[], models: string[], watch: BackendWatch, total: number) {
  const ours = await startOurGateway(signedNode, secret);
  stops.push(() => ours.gateway!.stop());
  const q1 = benchQueries(codes, models)[0]!;
  const samples: { second: number; rssMb: number }[] = [{ second: 0, rssMb: rssMb(ours.gateway!.pid) }];
  const started = Date.now();
  const sampler = setInterval(() => samples.push({ second: Math.round((Date.now() - started) / 1000), rssMb: rssMb(ours.gateway!.pid) }), 5_000);
  const run = await load.runLoad({ url: ours.url, connections, seconds: total, headers: ours.headers, body: q1.gateway });
  clearInterval(sampler);
  samples.push({ second: Math.round((Date.now() - started) / 1000), rssMb: rssMb(ours.gateway!.pid) });
  const lines = [
    `# npm run bench -- --soak ${total}: ${new Date().toISOString()}`,
    '',
    `${cpus()[0]?.model}, ${cpus().length} cores, load average ${loadAverageStart.map((l) => l.toFixed(2)).join(' ')} at start, ${loadavg().map((l) => l.toFixed(2)).join(' ')} at end; Node ${process.version}; PostgreSQL ${await watch.serverVersion()}.`,
    `Our gateway (access control, signing, limits on), Q1, ${connections} connections, ${plan.units} units: ${run.requests} requests (${(run.requests / run.seconds).toFixed(1)}/s), ${run.errors} errors.`,
    `RSS min ${Math.min(...samples.map((s) => s.rssMb)).toFixed(1)} MB, max ${Math.max(...samples.map((s) => s.rssMb)).toFixed(1)} MB, first ${samples[0]!.rssMb.toFixed(1)} MB, last ${samples.at(-1)!.rssMb.toFixed(1)} MB.`,
    '',
    '| second | RSS MB |',
    '|---|---|',
    ...samples.map((s) => `| ${s.second} | ${s.rssMb.toFixed(1)} |`),
  ];
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const dir = join(repoRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${values.out ?? 'soak'}.md`), lines.join('\n') + '\n');
  console.log(lines.join('\n'));
}
