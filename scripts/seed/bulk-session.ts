/**
 * One session on the node's database for the whole load, inside ONE transaction: the catalogue, every
 * batch and the index rebuild commit together or not at all, so a failed or interrupted run leaves the
 * database as it found it. Postgres: INSERT ... SELECT FROM unnest(arrays) per table over `pg`;
 * PGlite: COPY FROM '/dev/blob' (its in-process stand-in for COPY FROM STDIN).
 */
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { DatabaseConfig } from '../../lib/database/database.js';
import type { UnitBatch } from './unit-batches.js';

export interface BulkSession {
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
  writeBatch(batch: UnitBatch): Promise<void>;
  close(): Promise<void>;
}

/** Who the loader's events are recorded by (lifecycle_event.recorded_by). */
export const SEED_RECORDER = 'bulk-seed';

export const UNIT_TABLE = 'units.unit';
export const STATE_TABLE = 'lifecycle.unit_state';
export const EVENT_TABLE = 'lifecycle.lifecycle_event';

export async function openBulkSession(config: DatabaseConfig): Promise<BulkSession> {
  if (config.url) return postgresSession(config.url);
  if (!config.dataDir) throw new Error('the embedded database needs a data directory to load into');
  return pgliteSession(config.dataDir);
}

async function postgresSession(url: string): Promise<BulkSession> {
  // No statement timeout: rebuilding an index over millions of rows takes longer than the API's 15 s.
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => {}); // surfaces on the next query
  await client.connect();
  const query = async <R>(text: string, params?: unknown[]) => (await client.query(text, params)).rows as R[];
  return {
    query,
    async writeBatch(batch) {
      const u = batch.units;
      await query(
        `insert into ${UNIT_TABLE} (code, country, enterprise_code, model_code, serial, registered_at)
         select c, substr(c, 1, 2), substr(c, 1, 6), substr(c, 1, 12), substr(c, 13), r from unnest($1::text[], $2::timestamptz[]) as t(c, r)`,
        [u.code, u.registeredAt],
      );
      const s = batch.states;
      if (s.unitCode.length > 0) {
        await query(
          `insert into ${STATE_TABLE} (unit_code, state, state_before_theft, last_sequence, manufactured_at)
           select * from unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::timestamptz[])`,
          [s.unitCode, s.state, s.stateBeforeTheft, s.lastSequence, s.manufacturedAt],
        );
      }
      const e = batch.events;
      if (e.eventId.length > 0) {
        await query(
          `insert into ${EVENT_TABLE} (event_id, unit_code, type, occurred_at, sequence, state_after, owner, country, recorded_by)
           select *, $9 from unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::int[], $6::text[], $7::text[], $8::text[])`,
          [e.eventId, e.unitCode, e.type, e.occurredAt, e.sequence, e.stateAfter, e.owner, e.country, SEED_RECORDER],
        );
      }
    },
    close: () => client.end(),
  };
}

async function pgliteSession(dataDir: string): Promise<BulkSession> {
  const db = await PGlite.create({ dataDir });
  const copy = (table: string, columns: string, rows: string) =>
    db.query(`copy ${table} (${columns}) from '/dev/blob'`, [], { blob: new Blob([rows]) });
  return {
    query: async <R>(text: string, params?: unknown[]) => (await db.query<R>(text, params)).rows,
    async writeBatch(batch) {
      const u = batch.units;
      await copy(UNIT_TABLE, 'code, country, enterprise_code, model_code, serial, registered_at', lines(u.code.length, (i) => {
        const c = u.code[i]!;
        return [c, c.slice(0, 2), c.slice(0, 6), c.slice(0, 12), c.slice(12), u.registeredAt[i]!];
      }));
      const s = batch.states;
      if (s.unitCode.length > 0) {
        await copy(STATE_TABLE, 'unit_code, state, state_before_theft, last_sequence, manufactured_at', lines(s.unitCode.length, (i) => [
          s.unitCode[i]!, s.state[i]!, s.stateBeforeTheft[i]!, String(s.lastSequence[i]!), s.manufacturedAt[i]!,
        ]));
      }
      const e = batch.events;
      if (e.eventId.length > 0) {
        await copy(EVENT_TABLE, 'event_id, unit_code, type, occurred_at, sequence, state_after, owner, country, recorded_by', lines(e.eventId.length, (i) => [
          e.eventId[i]!, e.unitCode[i]!, e.type[i]!, e.occurredAt[i]!, String(e.sequence[i]!), e.stateAfter[i]!, e.owner[i]!, e.country[i]!, SEED_RECORDER,
        ]));
      }
    },
    close: () => db.close(),
  };
}

/**
 * COPY's text format: tab-separated, \N for null. Every value here is a code, an enum, a number, an
 * ISO time or a generated reference, none of which can hold a tab, newline or backslash.
 */
function lines(count: number, row: (i: number) => (string | null)[]): string {
  const out: string[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = row(i).map((v) => v ?? '\\N').join('\t');
  return out.join('\n') + '\n';
}
