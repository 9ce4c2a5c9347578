// Drill: restart the registry's Postgres under a steady mix of writes and reads. The node runs in
// this process, so a crash would be an unhandled error here. The test starts a Postgres of its own
// (temp data folder, own port): the shared server is never stopped.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFederation, type Federation } from './support/federation.js';
import { seedNode } from './support/seed-node.js';

const run = promisify(execFile);

function findPgBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  const bin = versions.map((v) => join(root, v, 'bin')).find((dir) => existsSync(join(dir, 'initdb')));
  return bin ?? null;
}

const PG_BIN = findPgBin();
// Drills run once in CI (the Postgres pass), not once per database.
const skipReason = !process.env.DATABASE_URL
  ? 'DATABASE_URL is not set (database drills run in the Postgres pass only)'
  : !PG_BIN
    ? 'initdb was not found under /usr/lib/postgresql/*/bin'
    : null;
if (skipReason) console.warn(`skipping the database restart drill: ${skipReason}`);

/** A throwaway Postgres server: initdb into a temp folder, its own port, run as the postgres user when we are root. */
class OwnPostgres {
  readonly dir = mkdtempSync(join(tmpdir(), 'pg-drill-'));
  readonly data = join(this.dir, 'data');
  port = 0;

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  async init(): Promise<void> {
    if (process.getuid?.() === 0) await run('chown', ['postgres', this.dir]);
    await this.#pg(`initdb -D ${this.data} -U postgres --auth=trust --no-sync`);
    this.port = await freePort();
  }

  start(): Promise<void> {
    return this.#pg(`pg_ctl -D ${this.data} -l ${join(this.dir, 'log')} -w -o "-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off" start`);
  }

  stop(mode: 'fast' | 'immediate'): Promise<void> {
    return this.#pg(`pg_ctl -D ${this.data} -w -m ${mode} stop`);
  }

  async destroy(): Promise<void> {
    await this.stop('immediate').catch(() => {});
    rmSync(this.dir, { recursive: true, force: true });
  }

  async #pg(command: string): Promise<void> {
    const line = `${PG_BIN}/${command}`;
    if (process.getuid?.() === 0) await run('su', ['postgres', '-c', line]);
    else await run('sh', ['-c', line]);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

type Kind = 'register' | 'record' | 'read';
interface Outcome {
  kind: Kind;
  /** The unit code registered, the eventId recorded, the unit code read. */
  key: string;
  ok: boolean;
  codes: string[];
  messages: string[];
  /** REGISTRY_UNAVAILABLE's word on a lost write: NOT_APPLIED or UNKNOWN. */
  writeOutcome?: string;
  /** No GraphQL answer at all (socket closed): the client cannot know. */
  transport?: boolean;
  startedAt: number;
  endedAt: number;
}

// Any of these during an outage would be the database's failure told as a fact about the data.
const BUSINESS_CODES = ['UNKNOWN_UNIT', 'UNKNOWN_MODEL', 'UNKNOWN_ENTERPRISE', 'UNKNOWN_RECALL', 'NOT_REGISTERED', 'ALREADY_REGISTERED', 'EVENT_CONFLICT', 'EVENT_REFUSED', 'MODEL_NOT_ACTIVE', 'ENTERPRISE_NOT_ACTIVE'];
const WORKERS = 4;
const MODEL = 'DEDRIL000001';

describe.skipIf(skipReason)('database restart drill: Postgres restarted under traffic', () => {
  const server = new OwnPostgres();
  let fed: Federation;
  let units: string[];
  const outcomes: Outcome[] = [];
  const waiters = new Set<() => void>();
  const unexpected: unknown[] = [];
  const onUnexpected = (err: unknown) => void unexpected.push(err);

  /** Resolves once `predicate` holds over the outcomes so far (checked as each request ends). */
  const until = (predicate: () => boolean): Promise<void> =>
    new Promise((resolve) => {
      const check = () => {
        if (predicate()) {
          waiters.delete(check);
          resolve();
        }
      };
      waiters.add(check);
      check();
    });
  const settled = (o: Omit<Outcome, 'endedAt'>) => {
    outcomes.push({ ...o, endedAt: Date.now() });
    for (const check of [...waiters]) check();
  };

  beforeAll(async () => {
    process.on('uncaughtException', onUnexpected);
    process.on('unhandledRejection', onUnexpected);
    await server.init();
    await server.start();
    const shared = process.env.DATABASE_URL;
    process.env.DATABASE_URL = server.url; // startFederation creates the node's database on this server
    try {
      fed = await startFederation([{ country: 'DE' }]);
    } finally {
      process.env.DATABASE_URL = shared;
    }
    units = await seedNode(fed.nodes[0]!, 'DEDRIL', MODEL, WORKERS);
  }, 120_000);

  afterAll(async () => {
    process.off('uncaughtException', onUnexpected);
    process.off('unhandledRejection', onUnexpected);
    await fed?.stop();
    await server.destroy();
  });

  async function request(kind: Kind, key: string, query: string, variables: Record<string, unknown>): Promise<void> {
    const startedAt = Date.now();
    let result;
    try {
      result = await fed.query(query, variables);
    } catch {
      return settled({ kind, key, ok: false, codes: [], messages: [], transport: true, startedAt });
    }
    const errors = result.errors ?? [];
    const value = result.data ? Object.values(result.data)[0] : null;
    settled({
      kind,
      key,
      ok: errors.length === 0 && value !== null && value !== undefined,
      codes: errors.map((e) => String(e.extensions?.code)),
      messages: errors.map((e) => e.message),
      writeOutcome: errors.map((e) => e.extensions?.writeOutcome).find((w) => w !== undefined) as string | undefined,
      startedAt,
    });
  }

  async function worker(index: number, running: () => boolean): Promise<void> {
    const unit = units[index]!;
    for (let n = 0; running(); n++) {
      const tag = `${index}${String(n).padStart(6, '0')}`;
      const serial = `D${tag.padStart(16, '0')}`;
      await request('register', MODEL + serial, `mutation($m: ID!, $s: [String!]) { registerUnits(input: { model: $m, serials: $s }) { code } }`, { m: MODEL, s: [serial] });
      const eventId = `drill-${tag}`;
      await request('record', eventId, `mutation($e: [LifecycleEventInput!]!) { recordEvents(events: $e) { eventId } }`, {
        e: [{ eventId, unit, type: 'MAINTAINED', occurredAt: new Date().toISOString() }],
      });
      await request('read', unit, `query($c: ID!) { unit(code: $c) { code } }`, { c: unit });
    }
  }

  const succeededSince = (t: number, kind: Kind) => outcomes.filter((o) => o.kind === kind && o.ok && o.startedAt >= t);
  const endedSince = (t: number) => outcomes.filter((o) => o.startedAt >= t);

  it('survives fast and immediate restarts, recovers by itself, and never lies about the data', async () => {
    let running = true;
    const traffic = Promise.all(Array.from({ length: WORKERS }, (_, i) => worker(i, () => running)));
    const figures: Record<string, unknown>[] = [];
    try {
      await until(() => succeededSince(0, 'register').length >= 8 && succeededSince(0, 'record').length >= 8);
      for (const mode of ['fast', 'immediate'] as const) {
        const stopAt = Date.now();
        await server.stop(mode);
        const downAt = Date.now();
        // The database is down: wait for requests that started after it went and have ended.
        await until(() => endedSince(downAt).length >= 3 * WORKERS);
        const restartAt = Date.now(); // Postgres may accept connections before pg_ctl start returns
        await server.start();
        const upAt = Date.now();
        await until(() => succeededSince(upAt, 'register').length >= 4 && succeededSince(upAt, 'record').length >= 4 && succeededSince(upAt, 'read').length >= 4);
        const during = outcomes.filter((o) => o.endedAt >= stopAt && o.startedAt < upAt);
        const firstOk = Math.min(...(['register', 'record', 'read'] as const).map((k) => Math.max(...succeededSince(upAt, k).slice(0, 1).map((o) => o.endedAt))));
        figures.push({
          mode,
          requestsDuringOutage: during.length,
          failedDuringOutage: during.filter((o) => !o.ok).length,
          errorCodes: [...new Set(during.flatMap((o) => o.codes))],
          messages: [...new Set(during.flatMap((o) => o.messages))],
          writeOutcomes: [...new Set(during.map((o) => o.writeOutcome).filter(Boolean))],
          msToFirstSuccessAfterStart: firstOk - upAt,
          msToAllKindsSucceedAfterStart: Math.max(...(['register', 'record', 'read'] as const).map((k) => succeededSince(upAt, k)[0]!.endedAt)) - upAt,
        });
        // Nothing that started after the database was down and ended before it was started again succeeded.
        expect(outcomes.filter((o) => o.startedAt >= downAt && o.endedAt < restartAt && o.ok)).toEqual([]);
      }
    } finally {
      running = false;
      await traffic;
    }
    console.info('database restart drill figures', JSON.stringify(figures));

    // The node survived in this process: no unhandled error reached it.
    expect(unexpected).toEqual([]);

    // No failure was ever told as a business answer, and every failure names itself.
    const failures = outcomes.filter((o) => !o.ok);
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.flatMap((o) => o.codes).filter((c) => BUSINESS_CODES.includes(c))).toEqual([]);
    for (const o of failures) {
      if (!o.transport) expect(o.codes.length, `${o.kind} ${o.key} failed without an error`).toBeGreaterThan(0);
      expect(o.codes.filter((c) => c !== 'REGISTRY_UNAVAILABLE' && c !== 'INTERNAL_SERVER_ERROR')).toEqual([]);
    }

    // What the database holds matches what clients were told.
    const client = new pg.Client({ connectionString: await nodeDatabaseUrl(server) });
    await client.connect();
    try {
      const registered = new Set((await client.query<{ code: string }>('select code from units.unit where model_code = $1', [MODEL])).rows.map((r) => r.code));
      const recorded = new Set((await client.query<{ event_id: string }>(`select event_id from lifecycle.lifecycle_event where event_id like 'drill-%'`)).rows.map((r) => r.event_id));
      const stored = (o: Outcome) => (o.kind === 'register' ? registered : recorded).has(o.key);
      const writes = outcomes.filter((o) => o.kind !== 'read');
      const toldSaved = writes.filter((o) => o.ok);
      const toldNotSaved = writes.filter((o) => !o.ok && !o.transport && o.writeOutcome !== 'UNKNOWN');
      expect(toldSaved.filter((o) => !stored(o)).map((o) => o.key)).toEqual([]);
      expect(toldNotSaved.filter(stored).map((o) => o.key)).toEqual([]);
      console.info('database restart drill writes', JSON.stringify({ toldSaved: toldSaved.length, toldNotSaved: toldNotSaved.length, toldUnknown: writes.length - toldSaved.length - toldNotSaved.length }));
    } finally {
      await client.end();
    }
  }, 180_000);
});

/** The node's database on the drill server: the only one startFederation created there. */
async function nodeDatabaseUrl(server: OwnPostgres): Promise<string> {
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>(`select datname from pg_database where datname like 'rrf_test_%'`);
    expect(rows).toHaveLength(1);
    return server.url.replace(/\/postgres$/, `/${rows[0]!.datname}`);
  } finally {
    await admin.end();
  }
}
