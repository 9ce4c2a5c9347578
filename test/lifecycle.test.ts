import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../lib/database/database.js';
import type { RunningServer } from '../lib/server/http-server.js';
import type { SiblingClient } from '../lib/subgraph/sibling-client.js';
import { startSubgraph } from '../lib/subgraph/subgraph-server.js';
import { signedFetch, TEST_SIGNING } from './support/signing.js';
import { lifecycleSubgraph } from '../subgraphs/lifecycle/index.js';
import type { LifecycleDb } from '../subgraphs/lifecycle/lifecycle-table.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

// The lifecycle subgraph alone on a fresh database, spoken to over HTTP as a gateway would. The units
// subgraph is replaced by a fake sibling that knows which units are registered (it stands for another
// service; everything below it, the database included, is real).

const REGISTERED_AT = '2025-01-01T00:00:00.000Z';
const DAY = 86_400_000;
/** An instant `days` after the fake registration date. */
const at = (days: number) => new Date(Date.parse(REGISTERED_AT) + days * DAY).toISOString();

interface EventInput extends EventDetails {
  eventId: string;
  unit: string;
  type: string;
  occurredAt: string;
}
interface EventDetails {
  owner?: string | null;
  country?: string | null;
  recall?: string | null;
  note?: string | null;
}
interface GraphQLError {
  message: string;
  extensions: { code: string; refusals?: Refusal[]; [key: string]: unknown };
}
interface Refusal {
  index: number;
  eventId: string;
  code: string;
  rule: string;
  message: string;
}
interface RecordedEvent {
  eventId: string;
  type: string;
  occurredAt: string;
  recordedAt: string;
  sequence: number;
  stateAfter: string;
  unit: { code: string; state: string };
}

let testDb: TestDatabase;
let database: Database;
let server: RunningServer;
let db: Kysely<LifecycleDb>;
const registry = new Map<string, string>();
/** Recall campaigns the fake product-models service knows: code -> closedAt. */
const campaigns = new Map<string, string | null>();
const lookups: { subgraph: string; typename: string; codes: string[]; selection: string }[] = [];

const siblings: SiblingClient = {
  async lookup<T>(subgraph: string, typename: string, codes: readonly string[], selection: string) {
    lookups.push({ subgraph, typename, codes: [...codes], selection });
    if (subgraph === 'product-models' && typename === 'RecallCampaign') {
      return codes.map((code) => (campaigns.has(code) ? ({ code, closedAt: campaigns.get(code) } as T) : null));
    }
    return codes.map((code) => {
      const registeredAt = registry.get(code);
      return registeredAt ? ({ code, registeredAt } as T) : null;
    });
  },
};

let serial = 0;
/** A fresh unit code of this node (CN), registered with the fake units service unless told otherwise. */
function newUnit(options: { registered?: boolean } = {}): string {
  const code = `CNACMEMODEL1${String(++serial).padStart(17, '0')}`;
  if (options.registered ?? true) registry.set(code, REGISTERED_AT);
  return code;
}
let eventSerial = 0;
const newEventId = () => `evt-${++eventSerial}`;
/** The details an event type requires, so that tests about something else need not spell them out. */
const REQUIRED_DETAILS: Record<string, EventDetails> = {
  SOLD: { owner: 'cust:1001' },
  OWNERSHIP_TRANSFERRED: { owner: 'cust:1002' },
  EXPORTED: { country: 'DE' },
  IMPORTED: { country: 'DE' },
};
const event = (unit: string, type: string, occurredAt: string, eventId = newEventId(), details = REQUIRED_DETAILS[type] ?? {}): EventInput => ({
  eventId,
  unit,
  type,
  occurredAt,
  ...details,
});

async function gql<T = any>(query: string, variables?: Record<string, unknown>): Promise<{ data?: T | null; errors?: GraphQLError[] }> {
  const response = await signedFetch(server.url, 'lifecycle', {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: T | null; errors?: GraphQLError[] };
}

const RECORD = `mutation($events: [LifecycleEventInput!]!) {
  recordEvents(events: $events) { eventId type occurredAt recordedAt sequence stateAfter unit { code state } }
}`;

async function record(events: EventInput[]) {
  return gql<{ recordEvents: RecordedEvent[] }>(RECORD, { events });
}
async function recordOk(events: EventInput[]): Promise<RecordedEvent[]> {
  const result = await record(events);
  expect(result.errors).toBeUndefined();
  return result.data!.recordEvents;
}
/** The call must fail with exactly one error; returns it. */
async function recordRefused(events: EventInput[]): Promise<GraphQLError> {
  const result = await record(events);
  expect(result.data ?? null).toBeNull();
  expect(result.errors).toHaveLength(1);
  return result.errors![0]!;
}

const UNIT_FIELDS = `code state events(first: $first, after: $after) {
  totalCount edges { cursor node { eventId type sequence stateAfter occurredAt recordedAt unit { code } } }
  pageInfo { hasNextPage endCursor }
}`;
const ENTITIES = `query($r: [_Any!]!, $first: Int, $after: String) { _entities(representations: $r) { ... on Unit { ${UNIT_FIELDS} } } }`;

async function units(codes: unknown[], page: { first?: number; after?: string } = {}) {
  const result = await gql(ENTITIES, { r: codes.map((code) => ({ __typename: 'Unit', code })), ...page });
  return result;
}
async function unit(code: string, page: { first?: number; after?: string } = {}) {
  const result = await units([code], page);
  expect(result.errors).toBeUndefined();
  return result.data._entities[0];
}
async function storedEvents(code: string) {
  return db.selectFrom('lifecycle_event').selectAll().where('unit_code', '=', code).orderBy('sequence').execute();
}

beforeAll(async () => {
  testDb = await createTestDatabase();
  database = await openDatabase(testDb.config);
  server = await startSubgraph(lifecycleSubgraph, { node: { country: 'CN', name: 'test' }, database, siblings, signing: TEST_SIGNING });
  db = database.forSchema<LifecycleDb>('lifecycle');
});

afterAll(async () => {
  await server?.stop();
  await db?.destroy();
  await database?.close();
  await testDb?.drop();
});

describe(`lifecycle subgraph (${process.env.DATABASE_URL ? 'Postgres' : 'PGlite'})`, () => {
  describe('state and history of a unit', () => {
    it('a unit with no events is REGISTERED with an empty history', async () => {
      const code = newUnit();
      expect(await unit(code)).toEqual({
        code,
        state: 'REGISTERED',
        events: { totalCount: 0, edges: [], pageInfo: { hasNextPage: false, endCursor: null } },
      });
    });

    it('derives the state from the events, which come back oldest first with their sequence and state after', async () => {
      const code = newUnit();
      const recorded = await recordOk([
        event(code, 'MANUFACTURED', at(1), 'made-1'),
        event(code, 'SOLD', at(2), 'sold-1'),
        event(code, 'DEPLOYED', at(3), 'deployed-1'),
      ]);
      expect(recorded.map((e) => [e.eventId, e.sequence, e.stateAfter, e.unit.code])).toEqual([
        ['made-1', 1, 'IN_STOCK', code],
        ['sold-1', 2, 'IN_STOCK', code],
        ['deployed-1', 3, 'IN_SERVICE', code],
      ]);
      expect(recorded[2]!.unit.state).toBe('IN_SERVICE');
      expect(recorded[0]!.occurredAt).toBe(at(1));
      expect(Date.parse(recorded[0]!.recordedAt)).toBeGreaterThan(Date.now() - 60_000);

      const found = await unit(code);
      expect(found.state).toBe('IN_SERVICE');
      expect(found.events.totalCount).toBe(3);
      expect(found.events.edges.map((e: any) => [e.node.type, e.node.sequence, e.node.stateAfter])).toEqual([
        ['MANUFACTURED', 1, 'IN_STOCK'],
        ['SOLD', 2, 'IN_STOCK'],
        ['DEPLOYED', 3, 'IN_SERVICE'],
      ]);
      expect(found.events.edges[0].node.unit).toEqual({ code });
    });

    it('pages through the history with a keyset cursor', async () => {
      const code = newUnit();
      const types = ['MANUFACTURED', 'MAINTAINED', 'SOFTWARE_UPDATED', 'REPAIRED', 'SOLD', 'DEPLOYED', 'MAINTAINED'];
      await recordOk(types.map((type, i) => event(code, type, at(i + 1))));

      const seen: number[] = [];
      let after: string | undefined;
      const pages: boolean[] = [];
      for (;;) {
        const { events } = await unit(code, { first: 3, ...(after ? { after } : {}) });
        expect(events.totalCount).toBe(7);
        seen.push(...events.edges.map((e: any) => e.node.sequence));
        pages.push(events.pageInfo.hasNextPage);
        if (!events.pageInfo.hasNextPage) break;
        expect(events.pageInfo.endCursor).toBe(events.edges.at(-1).cursor);
        after = events.pageInfo.endCursor;
      }
      expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(pages).toEqual([true, true, false]);

      // A page is stable when events are appended after it was read.
      const first = await unit(code, { first: 3 });
      await recordOk([event(code, 'MAINTAINED', at(20))]);
      const next = await unit(code, { first: 10, after: first.events.pageInfo.endCursor });
      expect(next.events.edges.map((e: any) => e.node.sequence)).toEqual([4, 5, 6, 7, 8]);
      expect(next.events.totalCount).toBe(8);

      const empty = await unit(code, { first: 0 });
      expect(empty.events).toMatchObject({ edges: [], totalCount: 8, pageInfo: { hasNextPage: true } });
    });

    it('refuses a forged cursor and an oversized page', async () => {
      const code = newUnit();
      const forged = await units([code], { after: Buffer.from('abc').toString('base64url') });
      expect(forged.errors?.[0]?.extensions.code).toBe('BAD_USER_INPUT');
      const garbage = await units([code], { after: '!!!' });
      expect(garbage.errors?.[0]?.extensions.code).toBe('BAD_USER_INPUT');
      const big = await units([code], { first: 501 });
      expect(big.errors?.[0]?.extensions.code).toBe('LIMIT_EXCEEDED');
    });

    it('resolves only canonical codes of its own country; other representations are null, not errors', async () => {
      const code = newUnit();
      const display = `${code.slice(0, 2)}-${code.slice(2, 6)}-${code.slice(6, 12)}-${code.slice(12)}`;
      const result = await units([code, code.toLowerCase(), display, `DE${code.slice(2)}`, code.slice(0, 28), 42, null]);
      expect(result.errors).toBeUndefined();
      expect(result.data._entities.map((e: any) => e?.code ?? null)).toEqual([code, null, null, null, null, null, null]);
    });
  });

  describe('scrapped units', () => {
    it('refuses sale, transfer, export, import, deployment and repair of a scrapped unit, writing nothing', async () => {
      const code = newUnit();
      await recordOk([event(code, 'MANUFACTURED', at(1)), event(code, 'SCRAPPED', at(2))]);
      for (const type of ['SOLD', 'OWNERSHIP_TRANSFERRED', 'EXPORTED', 'IMPORTED', 'DEPLOYED', 'REPAIRED', 'MAINTAINED', 'SCRAPPED']) {
        const eventId = newEventId();
        const error = await recordRefused([event(code, type, at(3), eventId)]);
        expect(error.extensions.code).toBe('EVENT_REFUSED');
        expect(error.extensions.refusals).toEqual([
          { index: 0, eventId, code: 'EVENT_REFUSED', rule: 'SCRAPPED_IS_FINAL', message: expect.stringContaining(`${type} refused: the unit is SCRAPPED`) },
        ]);
        expect(error.message).toContain('nothing was recorded');
      }
      expect(await storedEvents(code)).toHaveLength(2);
      expect((await unit(code)).state).toBe('SCRAPPED');

      await recordOk([event(code, 'RECYCLED', at(4))]);
      const afterRecycling = await recordRefused([event(code, 'MAINTAINED', at(5))]);
      expect(afterRecycling.extensions.refusals?.[0]?.rule).toBe('RECYCLED_IS_TERMINAL');
      expect((await unit(code)).state).toBe('RECYCLED');
    });

    it('applies events of one unit in one call in input order', async () => {
      const soldThenScrapped = newUnit();
      const recorded = await recordOk([event(soldThenScrapped, 'SOLD', at(1)), event(soldThenScrapped, 'SCRAPPED', at(2))]);
      expect(recorded.map((e) => [e.type, e.sequence])).toEqual([['SOLD', 1], ['SCRAPPED', 2]]);

      const scrappedThenSold = newUnit();
      const error = await recordRefused([event(scrappedThenSold, 'SCRAPPED', at(1)), event(scrappedThenSold, 'SOLD', at(2))]);
      expect(error.extensions.refusals?.map((r) => [r.index, r.rule])).toEqual([[1, 'SCRAPPED_IS_FINAL']]);
      expect(await storedEvents(scrappedThenSold)).toEqual([]);
    });
  });

  describe('stolen units', () => {
    it('cannot be sold, transferred or exported until recovered, then returns to its state before the theft', async () => {
      const code = newUnit();
      await recordOk([event(code, 'MANUFACTURED', at(1)), event(code, 'DEPLOYED', at(2)), event(code, 'REPORTED_STOLEN', at(3))]);
      expect((await unit(code)).state).toBe('STOLEN');
      for (const type of ['SOLD', 'OWNERSHIP_TRANSFERRED', 'EXPORTED']) {
        const error = await recordRefused([event(code, type, at(4))]);
        expect(error.extensions.refusals?.[0]).toMatchObject({ rule: 'STOLEN_UNIT', code: 'EVENT_REFUSED' });
      }
      const again = await recordRefused([event(code, 'REPORTED_STOLEN', at(4))]);
      expect(again.extensions.refusals?.[0]?.rule).toBe('ALREADY_STOLEN');
      expect(await storedEvents(code)).toHaveLength(3);

      const [recovered] = await recordOk([event(code, 'RECOVERED', at(5))]);
      expect(recovered?.stateAfter).toBe('IN_SERVICE');
      await recordOk([event(code, 'SOLD', at(6)), event(code, 'EXPORTED', at(7))]);
      expect((await unit(code)).state).toBe('IN_TRANSIT');
    });
  });

  describe('event details', () => {
    const DETAILS = `mutation($events: [LifecycleEventInput!]!) { recordEvents(events: $events) { eventId type owner country recall note } }`;
    const refusalsOf = (error: GraphQLError) => error.extensions.refusals?.map((r) => [r.index, r.code, r.rule]);

    it('records owner, country, recall and note, and returns them', async () => {
      const code = newUnit();
      campaigns.set('CNACMEMODEL1R0001', null);
      const result = await gql(DETAILS, {
        events: [
          event(code, 'MANUFACTURED', at(1), 'det-1', { note: 'line 3' }),
          event(code, 'SOLD', at(2), 'det-2', { owner: 'dealer:SH-0042' }),
          event(code, 'EXPORTED', at(3), 'det-3', { country: ' de ' }),
          event(code, 'IMPORTED', at(4), 'det-4', { country: 'DE' }),
          event(code, 'RECALL_REMEDIED', at(5), 'det-5', { recall: 'cnacmemodel1-r0001', note: '电池更换 🔋' }),
        ],
      });
      expect(result.errors).toBeUndefined();
      expect(result.data.recordEvents).toEqual([
        { eventId: 'det-1', type: 'MANUFACTURED', owner: null, country: null, recall: null, note: 'line 3' },
        { eventId: 'det-2', type: 'SOLD', owner: 'dealer:SH-0042', country: null, recall: null, note: null },
        { eventId: 'det-3', type: 'EXPORTED', owner: null, country: 'DE', recall: null, note: null },
        { eventId: 'det-4', type: 'IMPORTED', owner: null, country: 'DE', recall: null, note: null },
        { eventId: 'det-5', type: 'RECALL_REMEDIED', owner: null, country: null, recall: 'CNACMEMODEL1R0001', note: '电池更换 🔋' },
      ]);
      expect((await storedEvents(code)).map((e) => [e.owner, e.country, e.recall])).toEqual([
        [null, null, null],
        ['dealer:SH-0042', null, null],
        [null, 'DE', null],
        [null, 'DE', null],
        [null, null, 'CNACMEMODEL1R0001'],
      ]);
    });

    it('requires an opaque owner reference for SOLD and OWNERSHIP_TRANSFERRED, never a name', async () => {
      const code = newUnit();
      const error = await recordRefused([
        event(code, 'SOLD', at(1), newEventId(), {}),
        event(code, 'OWNERSHIP_TRANSFERRED', at(2), newEventId(), { owner: 'Zhang Wei' }),
        event(code, 'SOLD', at(3), newEventId(), { owner: 'x'.repeat(101) }),
        event(code, 'SOLD', at(4), newEventId(), { owner: '' }),
        event(code, 'DEPLOYED', at(5), newEventId(), { owner: 'cust:1' }),
        event(code, 'MAINTAINED', at(6), newEventId(), { owner: 'cust:1', country: 'DE', recall: 'CNACMEMODEL1R0001' }),
      ]);
      expect(error.extensions.code).toBe('BAD_USER_INPUT');
      expect(refusalsOf(error)).toEqual([
        [0, 'BAD_USER_INPUT', 'OWNER_REQUIRED'],
        [1, 'BAD_USER_INPUT', 'INVALID_OWNER'],
        [2, 'BAD_USER_INPUT', 'INVALID_OWNER'],
        [3, 'BAD_USER_INPUT', 'INVALID_OWNER'],
        [4, 'BAD_USER_INPUT', 'DETAIL_NOT_APPLICABLE'],
        [5, 'BAD_USER_INPUT', 'DETAIL_NOT_APPLICABLE'],
        [5, 'BAD_USER_INPUT', 'DETAIL_NOT_APPLICABLE'],
        [5, 'BAD_USER_INPUT', 'DETAIL_NOT_APPLICABLE'],
      ]);
      expect(error.extensions.refusals?.[1]?.message).toMatch(/never a name/);
      expect(await storedEvents(code)).toEqual([]);
    });

    it('requires a 2-character country for EXPORTED (not the unit\'s own) and IMPORTED', async () => {
      const code = newUnit();
      const error = await recordRefused([
        event(code, 'EXPORTED', at(1), newEventId(), {}),
        event(code, 'EXPORTED', at(1), newEventId(), { country: 'DEU' }),
        event(code, 'EXPORTED', at(1), newEventId(), { country: 'cn' }),
        event(code, 'IMPORTED', at(1), newEventId(), { country: 'D-' }),
        event(code, 'IMPORTED', at(1), newEventId(), { country: null }),
        event(code, 'SOLD', at(1), newEventId(), { owner: 'cust:1', country: 'DE' }),
      ]);
      expect(refusalsOf(error)).toEqual([
        [0, 'BAD_USER_INPUT', 'COUNTRY_REQUIRED'],
        [1, 'BAD_USER_INPUT', 'INVALID_COUNTRY'],
        [2, 'BAD_USER_INPUT', 'EXPORT_TO_OWN_COUNTRY'],
        [3, 'BAD_USER_INPUT', 'INVALID_COUNTRY'],
        [4, 'BAD_USER_INPUT', 'COUNTRY_REQUIRED'],
        [5, 'BAD_USER_INPUT', 'DETAIL_NOT_APPLICABLE'],
      ]);
      // Coming home from abroad, and arriving from the unit's own country (an origin), are both fine.
      await recordOk([event(code, 'EXPORTED', at(1), newEventId(), { country: 'JP' }), event(code, 'IMPORTED', at(2), newEventId(), { country: 'CN' })]);
    });

    it('requires a known recall campaign of the unit\'s model for RECALL_REMEDIED, asking product-models once per call', async () => {
      const code = newUnit();
      campaigns.set('CNACMEMODEL1R0002', null);
      campaigns.set('CNACMEMODEL1R0003', '2025-02-01T00:00:00.000Z');
      lookups.length = 0;
      const error = await recordRefused([
        event(code, 'RECALL_REMEDIED', at(1), newEventId(), {}),
        event(code, 'RECALL_REMEDIED', at(1), newEventId(), { recall: 'CNACMEMODEL1-0002' }),
        event(code, 'RECALL_REMEDIED', at(1), newEventId(), { recall: 'CNOTHERMODELR0002' }),
        event(code, 'RECALL_REMEDIED', at(1), newEventId(), { recall: 'CNACMEMODEL1R9999' }),
        event(code, 'RECALL_REMEDIED', at(1), newEventId(), { recall: 'CNACMEMODEL1R0002' }),
        event(code, 'RECALL_REMEDIED', at(1), newEventId(), { recall: 'cnacmemodel1r0002' }),
      ]);
      expect(refusalsOf(error)).toEqual([
        [0, 'BAD_USER_INPUT', 'RECALL_REQUIRED'],
        [1, 'BAD_USER_INPUT', 'INVALID_RECALL'],
        [2, 'BAD_USER_INPUT', 'RECALL_OF_OTHER_MODEL'],
        [3, 'UNKNOWN_RECALL', 'UNKNOWN_RECALL'],
      ]);
      expect(lookups.filter((l) => l.subgraph === 'product-models')).toEqual([
        { subgraph: 'product-models', typename: 'RecallCampaign', codes: ['CNACMEMODEL1R9999', 'CNACMEMODEL1R0002'], selection: 'code closedAt' },
      ]);
      expect(await storedEvents(code)).toEqual([]);

      const lone = await recordRefused([event(code, 'RECALL_REMEDIED', at(1), newEventId(), { recall: 'CNACMEMODEL1R0404' })]);
      expect(lone.extensions.code).toBe('UNKNOWN_RECALL');

      // A remedy of a campaign closed since is still a fact worth recording.
      lookups.length = 0;
      await recordOk([event(code, 'RECALL_REMEDIED', at(1), newEventId(), { recall: 'CNACMEMODEL1R0003' }), event(code, 'MAINTAINED', at(2))]);
      expect(lookups.filter((l) => l.subgraph === 'product-models')).toHaveLength(1);
      lookups.length = 0;
      await recordOk([event(code, 'MAINTAINED', at(3))]);
      expect(lookups.filter((l) => l.subgraph === 'product-models')).toEqual([]);
    });

    it('takes a note of up to 500 characters on any event', async () => {
      const code = newUnit();
      const error = await recordRefused([event(code, 'MANUFACTURED', at(1), newEventId(), { note: 'n'.repeat(501) })]);
      expect(refusalsOf(error)).toEqual([[0, 'BAD_USER_INPUT', 'INVALID_NOTE']]);
      // Counted in characters, not bytes or UTF-16 units.
      const [made] = await recordOk([event(code, 'MANUFACTURED', at(1), newEventId(), { note: '🔧'.repeat(500) })]);
      expect(made).toBeDefined();
      expect((await storedEvents(code))[0]?.note).toBe('🔧'.repeat(500));
    });

    it('details are part of the payload: a replay must repeat them, as normalised', async () => {
      const code = newUnit();
      const sold = event(code, 'SOLD', at(1), newEventId(), { owner: 'cust:77', note: 'first sale' });
      const exported = event(code, 'EXPORTED', at(2), newEventId(), { country: 'de' });
      const [original] = await recordOk([sold, exported]);
      expect(await recordOk([sold, { ...exported, country: 'DE' }])).toHaveLength(2);
      for (const changed of [{ owner: 'cust:78' }, { note: null }, { note: 'first sale ' }]) {
        const error = await recordRefused([{ ...sold, ...changed }]);
        expect(error.extensions.code).toBe('EVENT_CONFLICT');
        expect(error.message).toMatch(/details/);
      }
      expect(await storedEvents(code)).toHaveLength(2);
      expect(original?.eventId).toBe(sold.eventId);
    });

    it('the database itself refuses details that do not fit the event', async () => {
      const code = newUnit();
      await recordOk([event(code, 'MANUFACTURED', at(1))]);
      const row = { unit_code: code, occurred_at: new Date(at(2)), state_after: 'IN_STOCK' as const, event_id: newEventId() };
      const attempts = [
        { ...row, type: 'SOLD' as const, sequence: 2 },
        { ...row, type: 'SOLD' as const, sequence: 2, owner: 'Zhang Wei' },
        { ...row, type: 'MAINTAINED' as const, sequence: 2, owner: 'cust:1' },
        { ...row, type: 'EXPORTED' as const, sequence: 2, country: 'CN', state_after: 'IN_TRANSIT' as const },
        { ...row, type: 'RECALL_REMEDIED' as const, sequence: 2, recall: 'CNOTHERMODELR0001' },
        { ...row, type: 'MAINTAINED' as const, sequence: 2, note: 'n'.repeat(501) },
      ];
      for (const attempt of attempts) {
        await expect(db.insertInto('lifecycle_event').values(attempt).execute()).rejects.toThrow(/check constraint/);
      }
      expect(await storedEvents(code)).toHaveLength(1);
    });
  });

  describe('append-only storage', () => {
    it('the database itself refuses UPDATE, DELETE and TRUNCATE of events', async () => {
      const code = newUnit();
      await recordOk([event(code, 'MANUFACTURED', at(1))]);
      await expect(db.updateTable('lifecycle_event').set({ type: 'SCRAPPED' }).where('unit_code', '=', code).execute()).rejects.toThrow(/append-only/);
      await expect(db.deleteFrom('lifecycle_event').where('unit_code', '=', code).execute()).rejects.toThrow(/append-only/);
      await expect(sql`truncate lifecycle.lifecycle_event`.execute(db)).rejects.toThrow(/append-only/);
      await expect(db.deleteFrom('lifecycle_event').execute()).rejects.toThrow(/append-only/);
      expect(await storedEvents(code)).toHaveLength(1);
    });

    it('eventId and (unit, sequence) are unique in the database', async () => {
      const code = newUnit();
      const [made] = await recordOk([event(code, 'MANUFACTURED', at(1))]);
      const row = { unit_code: code, type: 'MAINTAINED' as const, occurred_at: new Date(at(2)), state_after: 'IN_STOCK' as const };
      await expect(db.insertInto('lifecycle_event').values({ ...row, event_id: made!.eventId, sequence: 2 }).execute()).rejects.toThrow(/duplicate key|unique/i);
      await expect(db.insertInto('lifecycle_event').values({ ...row, event_id: newEventId(), sequence: 1 }).execute()).rejects.toThrow(/duplicate key|unique/i);
    });
  });

  describe('idempotency', () => {
    it('recording the same event again returns the original and writes nothing', async () => {
      const code = newUnit();
      const made = event(code, 'MANUFACTURED', at(1));
      const [original] = await recordOk([made]);
      await recordOk([event(code, 'SOLD', at(2))]);

      // Replayed in another form (lower-case, hyphens, another offset): still the same event.
      const display = `${code.slice(0, 2)}-${code.slice(2, 6)}-${code.slice(6, 12)}-${code.slice(12)}`.toLowerCase();
      const sameInstant = at(1).replace('Z', '+00:00');
      const replayed = await recordOk([{ ...made, unit: display, occurredAt: sameInstant }]);
      expect(replayed).toEqual([{ ...original, unit: { code, state: 'IN_STOCK' } }]);
      expect(await storedEvents(code)).toHaveLength(2);

      // Even in a state that would refuse it now (MANUFACTURED is only accepted first), and mixed with new events.
      const mixed = await recordOk([made, event(code, 'DEPLOYED', at(3))]);
      expect(mixed.map((e) => [e.eventId, e.sequence, e.recordedAt])).toEqual([
        [made.eventId, 1, original!.recordedAt],
        [expect.any(String), 3, expect.any(String)],
      ]);
    });

    it('the same eventId with another payload is an EVENT_CONFLICT', async () => {
      const code = newUnit();
      const other = newUnit();
      const made = event(code, 'MANUFACTURED', at(1));
      await recordOk([made]);
      for (const changed of [{ type: 'MAINTAINED' }, { occurredAt: at(2) }, { unit: other }, { note: 'changed' }]) {
        const error = await recordRefused([{ ...made, ...changed }]);
        expect(error.extensions.code).toBe('EVENT_CONFLICT');
        expect(error.extensions.refusals).toEqual([
          { index: 0, eventId: made.eventId, code: 'EVENT_CONFLICT', rule: 'EVENT_ID_REUSED', message: expect.stringContaining(made.eventId) },
        ]);
      }
      expect(await storedEvents(other)).toEqual([]);
    });

    it('a repeated eventId within one call is one event; with another payload it is a conflict', async () => {
      const code = newUnit();
      const made = event(code, 'MANUFACTURED', at(1));
      const twice = await recordOk([made, made]);
      expect(twice[0]).toEqual(twice[1]);
      expect(await storedEvents(code)).toHaveLength(1);

      const sold = event(code, 'SOLD', at(2));
      const error = await recordRefused([sold, { ...sold, owner: 'cust:other' }]);
      expect(error.extensions.refusals?.map((r) => [r.index, r.code])).toEqual([[1, 'EVENT_CONFLICT']]);
      expect(await storedEvents(code)).toHaveLength(1);
    });
  });

  describe('refusals', () => {
    it('refuses the whole call with one error listing every refused event, and writes nothing', async () => {
      const good = newUnit();
      const scrapped = newUnit();
      await recordOk([event(scrapped, 'SCRAPPED', at(1))]);
      const unknown = newUnit({ registered: false });
      const events = [
        event(good, 'MANUFACTURED', at(1)),
        event('CN-NOT-A-CODE', 'SOLD', at(1)),
        event(scrapped, 'SOLD', at(2)),
        event(good, 'SOLD', at(2), 'bad id with spaces'),
        event(unknown, 'SOLD', at(2)),
        event(`JP${good.slice(2)}`, 'SOLD', at(2)),
        event(good, 'DEPLOYED', new Date(Date.now() + 3_600_000).toISOString()),
        event(good, 'DEPLOYED', at(3)),
      ];
      const error = await recordRefused(events);
      expect(error.extensions.code).toBe('EVENT_REFUSED');
      expect(error.message).toMatch(/^6 of 8 events refused; nothing was recorded/);
      expect(error.extensions.refusals?.map((r) => [r.index, r.eventId, r.code, r.rule])).toEqual([
        [1, events[1]!.eventId, 'MALFORMED_CODE', 'MALFORMED_CODE'],
        [2, events[2]!.eventId, 'EVENT_REFUSED', 'SCRAPPED_IS_FINAL'],
        [3, 'bad id with spaces', 'BAD_USER_INPUT', 'INVALID_EVENT_ID'],
        [4, events[4]!.eventId, 'UNKNOWN_UNIT', 'UNKNOWN_UNIT'],
        [5, events[5]!.eventId, 'FOREIGN_COUNTRY', 'FOREIGN_COUNTRY'],
        [6, events[6]!.eventId, 'EVENT_REFUSED', 'OCCURRED_IN_FUTURE'],
      ]);
      for (const refusal of error.extensions.refusals!) expect(refusal.message.length).toBeGreaterThan(10);
      expect(await storedEvents(good)).toEqual([]);
      expect((await unit(good)).state).toBe('REGISTERED');
    });

    it('gives a lone refusal its own error code', async () => {
      const malformed = await recordRefused([event('CN123', 'SOLD', at(1))]);
      expect(malformed.extensions.code).toBe('MALFORMED_CODE');
      expect(malformed.message).toMatch(/length|29/);
      const foreign = await recordRefused([event(`DE${newUnit().slice(2)}`, 'SOLD', at(1))]);
      expect(foreign.extensions.code).toBe('FOREIGN_COUNTRY');
      const unknown = await recordRefused([event(newUnit({ registered: false }), 'SOLD', at(1))]);
      expect(unknown.extensions.code).toBe('UNKNOWN_UNIT');
      const badId = await recordRefused([event(newUnit(), 'SOLD', at(1), 'x'.repeat(101))]);
      expect(badId.extensions.code).toBe('BAD_USER_INPUT');
    });

    it('asks the units service once per call, for each distinct unit', async () => {
      const a = newUnit();
      const b = newUnit();
      lookups.length = 0;
      await recordOk([event(a, 'MANUFACTURED', at(1)), event(b, 'MANUFACTURED', at(1)), event(a, 'SOLD', at(2))]);
      expect(lookups).toEqual([{ subgraph: 'units', typename: 'Unit', codes: [a, b], selection: 'code registeredAt' }]);
    });

    it('refuses occurredAt more than 5 minutes in the future, accepts small clock drift', async () => {
      const code = newUnit();
      const refused = await recordRefused([event(code, 'MANUFACTURED', new Date(Date.now() + 10 * 60_000).toISOString())]);
      expect(refused.extensions.refusals?.[0]?.rule).toBe('OCCURRED_IN_FUTURE');
      await recordOk([event(code, 'MANUFACTURED', new Date(Date.now() + 60_000).toISOString())]);
    });

    it('refuses events dated before the unit was manufactured, or registered when no MANUFACTURED event exists', async () => {
      // No MANUFACTURED event: registration is the lower bound, exactly.
      const unmade = newUnit();
      const early = await recordRefused([event(unmade, 'SOLD', new Date(Date.parse(REGISTERED_AT) - 1).toISOString())]);
      expect(early.extensions.refusals?.[0]).toMatchObject({ rule: 'BEFORE_MANUFACTURE', code: 'EVENT_REFUSED' });
      await recordOk([event(unmade, 'SOLD', REGISTERED_AT)]);

      // MANUFACTURED may precede registration (back-filled history) and then anchors the history.
      const made = newUnit();
      await recordOk([event(made, 'MANUFACTURED', at(-30)), event(made, 'SOLD', at(-20))]);
      const beforeMade = await recordRefused([event(made, 'MAINTAINED', at(-31))]);
      expect(beforeMade.extensions.refusals?.[0]?.rule).toBe('BEFORE_MANUFACTURE');

      // Within one call too.
      const same = newUnit();
      const inCall = await recordRefused([event(same, 'MANUFACTURED', at(10)), event(same, 'SOLD', at(9))]);
      expect(inCall.extensions.refusals?.map((r) => [r.index, r.rule])).toEqual([[1, 'BEFORE_MANUFACTURE']]);
    });

    it('takes at most 1,000 events per call', async () => {
      const code = newUnit();
      const tooMany = Array.from({ length: 1001 }, (_, i) => event(code, 'MAINTAINED', at(1 + i / 10_000)));
      const error = await recordRefused(tooMany);
      expect(error.extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', max: 1000 });
      expect(await recordOk([])).toEqual([]);
    });
  });

  describe('batching', () => {
    it('records 1,000 events in one call, then resolves 1,000 units (state + events) in one statement per kind', async () => {
      const codes = Array.from({ length: 1000 }, () => newUnit());
      const statements: string[] = [];
      const stop = database.onStatement((e) => {
        if (e.schema === 'lifecycle') statements.push(e.sql);
      });
      try {
        const recorded = await recordOk(codes.map((code) => event(code, 'MANUFACTURED', at(1))));
        expect(recorded).toHaveLength(1000);
        // Lock (insert missing states, select for update), replay check, recording-order lock, insert
        // events, save states, then one read for the answer's `unit { state }`: a constant, not one per event.
        expect(statements.filter((s) => !/^(begin|commit|rollback)\b/i.test(s))).toHaveLength(7);

        statements.length = 0;
        const result = await units(codes, { first: 2 });
        expect(result.errors).toBeUndefined();
        expect(result.data._entities).toHaveLength(1000);
        result.data._entities.forEach((entity: any, i: number) => {
          expect(entity.code).toBe(codes[i]);
          expect(entity.state).toBe('IN_STOCK');
          expect(entity.events.totalCount).toBe(1);
          expect(entity.events.edges[0].node.type).toBe('MANUFACTURED');
        });
        expect(statements).toHaveLength(2);
        expect(statements.filter((s) => s.includes('"unit_state"'))).toHaveLength(1);
        expect(statements.filter((s) => s.includes('"lifecycle_event"'))).toHaveLength(1);
      } finally {
        stop();
      }
    });
  });

  describe('concurrency', () => {
    const PAIRS = 20;

    it('SOLD and SCRAPPED racing on fresh units are applied one after the other, never both from the same state', async () => {
      const codes = Array.from({ length: PAIRS }, () => newUnit());
      await recordOk(codes.map((code) => event(code, 'MANUFACTURED', at(1))));
      const outcomes = await Promise.all(
        codes.map(async (code) => {
          const [sold, scrapped] = await Promise.all([record([event(code, 'SOLD', at(2))]), record([event(code, 'SCRAPPED', at(2))])]);
          return { code, sold, scrapped };
        }),
      );
      for (const { code, sold, scrapped } of outcomes) {
        // SCRAPPED is accepted whichever comes first; SOLD only if it came first.
        expect(scrapped.errors).toBeUndefined();
        const history = (await storedEvents(code)).map((e) => [e.sequence, e.type, e.state_after]);
        if (sold.errors) {
          expect(sold.errors[0]?.extensions.refusals?.[0]?.rule).toBe('SCRAPPED_IS_FINAL');
          expect(history).toEqual([[1, 'MANUFACTURED', 'IN_STOCK'], [2, 'SCRAPPED', 'SCRAPPED']]);
        } else {
          expect(history).toEqual([[1, 'MANUFACTURED', 'IN_STOCK'], [2, 'SOLD', 'IN_STOCK'], [3, 'SCRAPPED', 'SCRAPPED']]);
        }
        expect((await unit(code)).state).toBe('SCRAPPED');
      }
    });

    it('of two mutually exclusive events (EXPORTED vs SCRAPPED) exactly one wins', async () => {
      const codes = Array.from({ length: PAIRS }, () => newUnit());
      await recordOk(codes.map((code) => event(code, 'MANUFACTURED', at(1))));
      const outcomes = await Promise.all(
        codes.map((code) => Promise.all([record([event(code, 'EXPORTED', at(2))]), record([event(code, 'SCRAPPED', at(2))])])),
      );
      for (const [i, [exported, scrapped]] of outcomes.entries()) {
        const winners = [exported, scrapped].filter((r) => !r.errors);
        expect(winners).toHaveLength(1);
        const loser = [exported, scrapped].find((r) => r.errors)!;
        expect(['UNIT_IN_TRANSIT', 'SCRAPPED_IS_FINAL']).toContain(loser.errors?.[0]?.extensions.refusals?.[0]?.rule);
        expect(await storedEvents(codes[i]!)).toHaveLength(2);
      }
    });

    it('the same new event sent twice at once is recorded once', async () => {
      const codes = Array.from({ length: PAIRS }, () => newUnit());
      const outcomes = await Promise.all(
        codes.map((code) => {
          const made = event(code, 'MANUFACTURED', at(1));
          return Promise.all([recordOk([made]), recordOk([made])]);
        }),
      );
      for (const [i, [first, second]] of outcomes.entries()) {
        expect(first).toEqual(second);
        expect(await storedEvents(codes[i]!)).toHaveLength(1);
      }
    });

    it('one new eventId sent at once for two different units is recorded for one of them only', async () => {
      const outcomes = await Promise.all(
        Array.from({ length: PAIRS }, () => {
          const eventId = newEventId();
          const [a, b] = [newUnit(), newUnit()];
          return Promise.all([record([event(a, 'MANUFACTURED', at(1), eventId)]), record([event(b, 'MANUFACTURED', at(1), eventId)])]);
        }),
      );
      for (const pair of outcomes) {
        expect(pair.filter((r) => !r.errors)).toHaveLength(1);
        // The loser lost a race on the unique eventId and is told so, not given an internal error.
        expect(pair.find((r) => r.errors)?.errors?.[0]?.extensions.code).toBe('EVENT_CONFLICT');
      }
    });

    it('calls touching the same units in opposite orders do not deadlock', async () => {
      const a = newUnit();
      const b = newUnit();
      await recordOk([event(a, 'MANUFACTURED', at(1)), event(b, 'MANUFACTURED', at(1))]);
      const calls = Array.from({ length: 20 }, (_, i) =>
        i % 2 === 0
          ? recordOk([event(a, 'MAINTAINED', at(2)), event(b, 'MAINTAINED', at(2))])
          : recordOk([event(b, 'SOFTWARE_UPDATED', at(2)), event(a, 'SOFTWARE_UPDATED', at(2))]),
      );
      await Promise.all(calls);
      for (const code of [a, b]) {
        expect((await storedEvents(code)).map((e) => e.sequence)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
        expect((await unit(code, { first: 0 })).events.totalCount).toBe(21);
      }
    });
  });
});
