import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../lib/database/database.js';
import { migrateSchema } from '../lib/database/migrate.js';
import type { RunningServer } from '../lib/server/http-server.js';
import type { SiblingClient } from '../lib/subgraph/sibling-client.js';
import { startSubgraph } from '../lib/subgraph/subgraph-server.js';
import { signedFetch, TEST_SIGNING } from './support/signing.js';
import { lifecycleSubgraph } from '../subgraphs/lifecycle/index.js';
import type { LifecycleDb } from '../subgraphs/lifecycle/lifecycle-table.js';
import { migrations } from '../subgraphs/lifecycle/migrations.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

/**
 * A registry that recorded events before events had details: the new migrations keep its history
 * (append-only, positions in the log) and provenance reads it without inventing owners or countries.
 */
describe(`events recorded before details were required (${process.env.DATABASE_URL ? 'Postgres' : 'PGlite'})`, () => {
  const UNIT = 'CNLEGACYMODL00000000000000001';
  const day = (n: number) => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000);
  let testDb: TestDatabase;
  let database: Database;
  let db: Kysely<LifecycleDb>;
  let server: RunningServer;

  const siblings: SiblingClient = {
    async lookup<T>(_subgraph: string, _typename: string, codes: readonly string[]) {
      return codes.map((code) => (code === UNIT ? ({ code, registeredAt: day(0).toISOString() } as T) : null));
    },
  };
  async function gql(query: string, variables?: Record<string, unknown>): Promise<any> {
    const response = await signedFetch(server.url, 'lifecycle', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
    return response.json();
  }

  beforeAll(async () => {
    testDb = await createTestDatabase();
    database = await openDatabase(testDb.config);
    db = database.forSchema<LifecycleDb>('lifecycle');
    const [first] = Object.keys(migrations).sort();
    await migrateSchema(db, 'lifecycle', { [first!]: migrations[first!]! });
    // The first version's columns only.
    const legacy = (sequence: number, type: string, at: Date, state: string) =>
      sql`insert into lifecycle.lifecycle_event (event_id, unit_code, type, occurred_at, sequence, state_after)
          values (${`legacy-${sequence}`}, ${UNIT}, ${type}, ${at}, ${sequence}, ${state})`.execute(db);
    await legacy(1, 'MANUFACTURED', day(1), 'IN_STOCK');
    await legacy(2, 'SOLD', day(20), 'IN_STOCK');
    await legacy(3, 'EXPORTED', day(30), 'IN_TRANSIT');
    await sql`insert into lifecycle.unit_state (unit_code, state, last_sequence, manufactured_at) values (${UNIT}, 'IN_TRANSIT', 3, ${day(1)})`.execute(db);
    server = await startSubgraph(lifecycleSubgraph, { node: { country: 'CN', name: 'test' }, database, siblings, signing: TEST_SIGNING });
  });
  afterAll(async () => {
    await server?.stop();
    await db?.destroy();
    await database?.close();
    await testDb?.drop();
  });

  it('migrates the history as it was, with log positions, and keeps it append-only', async () => {
    const rows = await db.selectFrom('lifecycle_event').select(['event_id', 'owner', 'country', 'log_position']).orderBy('log_position').execute();
    expect(rows.map((r) => [r.event_id, r.owner, r.country])).toEqual([
      ['legacy-1', null, null],
      ['legacy-2', null, null],
      ['legacy-3', null, null],
    ]);
    expect(new Set(rows.map((r) => r.log_position)).size).toBe(3);
    await expect(db.updateTable('lifecycle_event').set({ owner: 'cust:1' }).where('event_id', '=', 'legacy-2').execute()).rejects.toThrow(/append-only/);
    // New rows must carry the details their type requires, even written around the application.
    await expect(
      db.insertInto('lifecycle_event').values({ event_id: 'raw-1', unit_code: UNIT, type: 'SOLD', occurred_at: day(40), sequence: 4, state_after: 'IN_TRANSIT' }).execute(),
    ).rejects.toThrow(/check constraint/);
  });

  it('provenance skips what it cannot name, yet a legacy sale still ends the ownership before it', async () => {
    const recorded = await gql(`mutation($e: [LifecycleEventInput!]!) { recordEvents(events: $e) { eventId } }`, {
      e: [
        { eventId: 'late-1', unit: UNIT, type: 'OWNERSHIP_TRANSFERRED', occurredAt: day(10).toISOString(), owner: 'lease:9' },
        { eventId: 'new-1', unit: UNIT, type: 'IMPORTED', occurredAt: day(50).toISOString(), country: 'DE' },
      ],
    });
    expect(recorded.errors).toBeUndefined();
    const result = await gql(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Unit { state provenance {
      owners { owner since until eventId } borderCrossings { direction country eventId } } } } }`, { r: [{ __typename: 'Unit', code: UNIT }] });
    expect(result.errors).toBeUndefined();
    expect(result.data._entities[0]).toEqual({
      state: 'IN_STOCK',
      provenance: {
        owners: [{ owner: 'lease:9', since: day(10).toISOString(), until: day(20).toISOString(), eventId: 'late-1' }],
        borderCrossings: [{ direction: 'IMPORT', country: 'DE', eventId: 'new-1' }],
      },
    });
  });
});
