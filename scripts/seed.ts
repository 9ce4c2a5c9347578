import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_HOME, HOME_DATA_DIR } from './process-defaults.js';
import { progressReporter } from './seed/progress.js';
import { seedRegistry, SeedRefusedError, type SeedOptions, type SeedSummary } from './seed/seed-registry.js';

/**
 * `npm run seed -- --units 1000000 [--events-per-unit 3] [--enterprises 20 --models 200]
 * [--stolen 0.1% --scrapped 2% --recalled 1%] [--country CN] [--seed S] [--append]
 * [--database-url URL | --data-dir DIR]`: fills a registry node's database directly (no API), for
 * benchmarks and national-scale trials. The database: --database-url, else DATABASE_URL, else the
 * embedded one in --data-dir, DATA_DIR or npm start's home node directory. Stop the node first when
 * loading an embedded database (it is one process's). Exit status 2: bad flags or a database that
 * already holds data (without --append).
 */
const usage = `usage: npm run seed -- --units N [--events-per-unit 3] [--enterprises 20] [--models 200] [--stolen 0.1%] [--scrapped 2%] [--recalled 1%] [--country ${DEFAULT_HOME.country}] [--seed 1] [--append] [--database-url postgres://... | --data-dir DIR]`;

export function readSeedOptions(argv: string[], env: NodeJS.ProcessEnv): SeedOptions & { describe: string } {
  const { values } = parseArgs({
    args: argv,
    options: {
      units: { type: 'string' },
      'events-per-unit': { type: 'string', default: '3' },
      enterprises: { type: 'string', default: '20' },
      models: { type: 'string', default: '200' },
      stolen: { type: 'string', default: '0.1%' },
      scrapped: { type: 'string', default: '2%' },
      recalled: { type: 'string', default: '1%' },
      country: { type: 'string', default: env.COUNTRY ?? DEFAULT_HOME.country },
      seed: { type: 'string', default: '1' },
      append: { type: 'boolean', default: false },
      'batch-size': { type: 'string' },
      'database-url': { type: 'string' },
      'data-dir': { type: 'string' },
    },
  });
  if (values.units === undefined) throw new Error('--units is required');
  const url = values['database-url'] ?? (values['data-dir'] ? undefined : env.DATABASE_URL?.trim() || undefined);
  const dataDir = url ? undefined : (values['data-dir'] ?? (env.DATA_DIR?.trim() || HOME_DATA_DIR));
  return {
    database: url ? { url } : { dataDir },
    describe: url ? `Postgres at ${describeUrl(url)}` : `the embedded database in ${dataDir}`,
    country: values.country.toUpperCase(),
    units: count(values.units, '--units'),
    eventsPerUnit: count(values['events-per-unit'], '--events-per-unit'),
    enterprises: count(values.enterprises, '--enterprises'),
    models: count(values.models, '--models'),
    stolen: share(values.stolen, '--stolen'),
    scrapped: share(values.scrapped, '--scrapped'),
    recalled: share(values.recalled, '--recalled'),
    seed: values.seed,
    append: values.append,
    batchSize: values['batch-size'] === undefined ? undefined : count(values['batch-size'], '--batch-size'),
  };
}

/** "1000000", "1_000_000" or "1e6". */
function count(text: string, flag: string): number {
  const n = Number(text.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} must be a whole number, got "${text}"`);
  return n;
}

/** "2%" or "0.02". */
function share(text: string, flag: string): number {
  const percent = text.trim().endsWith('%');
  const n = Number(percent ? text.trim().slice(0, -1) : text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new Error(`${flag} must be a share such as 2% or 0.02, got "${text}"`);
  return percent ? n / 100 : n;
}

function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}

export function formatSummary(summary: SeedSummary): string {
  const seconds = summary.elapsedMs / 1000;
  const rate = (n: number) => Math.round(n / seconds).toLocaleString('en');
  const states = Object.entries(summary.unitsByState)
    .filter(([, n]) => n > 0)
    .map(([state, n]) => `${state} ${n.toLocaleString('en')}`)
    .join(', ');
  return [
    `seeded ${summary.units.toLocaleString('en')} units and ${summary.events.toLocaleString('en')} events in ${seconds.toFixed(1)} s: ${rate(summary.units)} units/s, ${rate(summary.events)} events/s`,
    `units by state: ${states}`,
    `under open recall: ${summary.recalledUnits.toLocaleString('en')} units (${summary.recallCampaigns} campaigns)`,
    'rows written:',
    ...Object.entries(summary.rows).map(([table, n]) => `  ${table.padEnd(32)} ${n.toLocaleString('en').padStart(12)}`),
  ].join('\n');
}

async function main(): Promise<void> {
  let options: ReturnType<typeof readSeedOptions>;
  try {
    options = readSeedOptions(process.argv.slice(2), process.env);
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    process.exit(2);
  }
  console.error(`seed: ${options.units.toLocaleString('en')} units of ${options.country} into ${options.describe}`);
  const progress = progressReporter(process.stderr);
  try {
    const summary = await seedRegistry({ ...options, onProgress: progress.update });
    console.log(formatSummary(summary));
  } catch (error) {
    console.error(`seed: ${(error as Error).message}`);
    process.exit(error instanceof SeedRefusedError ? 2 : 1);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
