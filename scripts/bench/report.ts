import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CellSummary } from './stats.js';

export interface Machine {
  cpu: string;
  cores: number;
  loadAverageStart: number[];
  loadAverageEnd: number[];
  node: string;
  postgres: string;
  date: string;
}

export interface BenchResult {
  machine: Machine;
  settings: Record<string, unknown>;
  targets: string[];
  queries: string[];
  cells: CellSummary[];
  /** Per query: which targets returned the same data as ours on the sample requests. */
  sameData: Record<string, Record<string, 'same' | 'different' | 'n/a'>>;
  rss: Record<string, { beforeMb: number; afterMb: number }>;
  note?: string;
}

const fmt = (n: number | undefined, d = 1) => (n === undefined || Number.isNaN(n) ? '-' : n.toFixed(d));

/** Writes bench/results/<name>.md and .json; returns the markdown. */
export function writeResults(dir: string, name: string, result: BenchResult): string {
  const cell = (t: string, q: string) => result.cells.find((c) => c.target === t && c.query === q);
  const m = result.machine;
  const lines = [
    `# npm run bench: ${m.date}`,
    '',
    ...(result.note ? [`> ${result.note}`, ''] : []),
    `Machine: ${m.cpu}, ${m.cores} cores, load average ${m.loadAverageStart.map((l) => l.toFixed(2)).join(' ')} at start, ${m.loadAverageEnd.map((l) => l.toFixed(2)).join(' ')} at end; Node ${m.node}; PostgreSQL ${m.postgres}.`,
    `Settings: ${Object.entries(result.settings).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
    '',
    'CPU is per request, in ms, of each process: the gateway, the registry node (four subgraphs and the audit log in one process) and',
    'the Postgres backends of the bench database. SQL: statements the node sent per request (counted at its driver).',
    '',
  ];
  for (const q of result.queries) {
    lines.push(`## ${q}`, '', '| target | req/s | p50 ms | p99 ms | errors | CPU gateway | CPU node | CPU Postgres | CPU total | SQL/req | same data |', '|---|---|---|---|---|---|---|---|---|---|---|');
    for (const t of result.targets) {
      const c = cell(t, q);
      if (!c) {
        lines.push(`| ${t} | n/a | | | | | | | | | |`);
        continue;
      }
      const r = c.cpuMsPerRequest;
      lines.push(`| ${t} | ${fmt(c.reqPerSec)} | ${fmt(c.p50)} | ${fmt(c.p99)} | ${c.errors} | ${fmt(r.gateway, 2)} | ${fmt(r.node, 2)} | ${fmt(r.postgres, 2)} | ${fmt(r.total, 2)} | ${fmt(c.statementsPerRequest, 2)} | ${result.sameData[q]?.[t] ?? 'n/a'} |`);
    }
    const ours = cell('ours', q);
    const ratios = result.targets
      .filter((t) => t !== 'ours' && cell(t, q) && ours && cell(t, q)!.cpuMsPerRequest.gateway > 0)
      .map((t) => {
        const errors = ours!.errors || cell(t, q)!.errors ? ' (errors in the run: not comparable)' : '';
        return `${t}: CPU ${fmt(ours!.cpuMsPerRequest.gateway / cell(t, q)!.cpuMsPerRequest.gateway, 2)}x, req/s ${fmt(ours!.reqPerSec / cell(t, q)!.reqPerSec, 2)}x${errors}`;
      });
    if (ratios.length) lines.push('', `Ours (gateway CPU per request, throughput) relative to ${ratios.join('; ')}.`);
    const failing = result.targets.map((t) => cell(t, q)).filter((c) => c?.firstError);
    for (const c of failing) lines.push('', `First error of ${c!.target}: \`${c!.firstError!.replace(/`/g, "'").slice(0, 200)}\``);
    lines.push('');
  }
  lines.push('## Gateway RSS (MB)', '', '| target | before | after |', '|---|---|---|');
  for (const [t, r] of Object.entries(result.rss)) lines.push(`| ${t} | ${fmt(r.beforeMb)} | ${fmt(r.afterMb)} |`);
  const markdown = lines.join('\n') + '\n';
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.md`), markdown);
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(result, null, 2) + '\n');
  return markdown;
}
