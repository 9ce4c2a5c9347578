import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatementEvent } from '../lib/database/database.js';
import { startFederation, type Federation } from './support/federation.js';
import { signedFetch } from './support/signing.js';

/**
 * The analysts' queries on lifecycle data, through the gateway: filtered event pages of a unit, units
 * in a state, units per state, events per month and the registry's event log.
 */
describe(`lifecycle analytics (${process.env.DATABASE_URL ? 'Postgres' : 'PGlite'})`, () => {
  const MODEL = 'CNAN01AN0001';
  let fed: Federation;
  /** u[0..9] have events, u[10..14] none. */
  let u: string[];
  /** eventIds in the order they were recorded. */
  const recorded: string[] = [];
  let eventSerial = 0;

  const query = async (text: string, variables?: Record<string, unknown>) => {
    const result = await fed.query(text, variables);
    expect(result.errors, text).toBeUndefined();
    return result.data;
  };
  const record = async (events: { unit: string; type: string; at: string; details?: Record<string, string> }[]) => {
    const input = events.map((e) => ({ eventId: `an-${++eventSerial}`, unit: e.unit, type: e.type, occurredAt: e.at, ...e.details }));
    await query(`mutation($e: [LifecycleEventInput!]!) { recordEvents(events: $e) { eventId } }`, { e: input });
    recorded.push(...input.map((e) => e.eventId));
  };

  beforeAll(async () => {
    fed = await startFederation([{ country: 'CN' }]);
    await query(`mutation { registerEnterprise(input: { code: "CNAN01", name: "Analytics Robotics" }) { code } }`);
    await query(`mutation { registerProductModel(input: { code: "${MODEL}", name: "AN", category: "humanoid" }) { code } }`);
    u = (await query(`mutation { registerUnits(input: { model: "${MODEL}", count: 15 }) { code } }`)).registerUnits.map((x: { code: string }) => x.code);

    await record(u.slice(0, 10).map((unit) => ({ unit, type: 'MANUFACTURED', at: '2024-01-10T08:00:00Z' })));
    await record([
      { unit: u[0]!, type: 'SOLD', at: '2024-02-05T10:00:00Z', details: { owner: 'cust:1' } },
      { unit: u[0]!, type: 'DEPLOYED', at: '2024-02-20T10:00:00Z' },
      { unit: u[0]!, type: 'MAINTAINED', at: '2024-03-01T00:00:00Z' },
      { unit: u[0]!, type: 'MAINTAINED', at: '2024-03-31T23:59:59.999Z' },
      // Local time says April; in UTC it is still March.
      { unit: u[0]!, type: 'MAINTAINED', at: '2024-04-01T00:30:00+01:00' },
      { unit: u[0]!, type: 'REPAIRED', at: '2024-05-10T10:00:00Z' },
    ]);
    await record([
      { unit: u[1]!, type: 'SCRAPPED', at: '2024-06-01T10:00:00Z' },
      { unit: u[2]!, type: 'EXPORTED', at: '2024-06-15T10:00:00Z', details: { country: 'DE' } },
      { unit: u[3]!, type: 'REPORTED_STOLEN', at: '2024-07-01T10:00:00Z' },
      { unit: u[4]!, type: 'DEPLOYED', at: '2024-02-01T10:00:00Z' },
    ]);
  });
  afterAll(() => fed?.stop());

  describe('Unit.events with a filter', () => {
    const EVENTS = `query($c: ID!, $f: EventFilter, $first: Int, $after: String) { unit(code: $c) {
      events(first: $first, after: $after, filter: $f) { totalCount edges { cursor node { sequence type } } pageInfo { hasNextPage endCursor } }
    } }`;
    const page = async (filter: unknown, first = 50, after?: string) => (await query(EVENTS, { c: u[0], f: filter, first, after })).unit.events;

    it('filters by type and pages with the keyset cursor, counting only matching events', async () => {
      const first = await page({ types: ['MAINTAINED', 'REPAIRED'] }, 2);
      expect(first.edges.map((e: any) => e.node.sequence)).toEqual([4, 5]);
      expect(first).toMatchObject({ totalCount: 4, pageInfo: { hasNextPage: true } });
      const second = await page({ types: ['MAINTAINED', 'REPAIRED'] }, 2, first.pageInfo.endCursor);
      expect(second.edges.map((e: any) => [e.node.sequence, e.node.type])).toEqual([[6, 'MAINTAINED'], [7, 'REPAIRED']]);
      expect(second).toMatchObject({ totalCount: 4, pageInfo: { hasNextPage: false } });
    });

    it('occurredFrom is inclusive, occurredBefore exclusive', async () => {
      const march = await page({ occurredFrom: '2024-03-01T00:00:00Z', occurredBefore: '2024-03-31T23:59:59.999Z' });
      expect(march.edges.map((e: any) => e.node.sequence)).toEqual([4, 6]);
      expect(march.totalCount).toBe(2);
      const combined = await page({ types: ['SOLD', 'REPAIRED'], occurredFrom: '2024-02-05T10:00:00Z' });
      expect(combined.edges.map((e: any) => e.node.type)).toEqual(['SOLD', 'REPAIRED']);
    });

    it('an empty filter restricts nothing, an empty type list matches nothing, a reversed range is refused', async () => {
      expect((await page({})).totalCount).toBe(7);
      expect(await page({ types: [] })).toEqual({ totalCount: 0, edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
      const reversed = await fed.query(EVENTS, { c: u[0], f: { occurredFrom: '2024-03-02T00:00:00Z', occurredBefore: '2024-03-01T00:00:00Z' } });
      expect(reversed.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    });

    it('costs two lifecycle statements (pages, counts) for a batch of units sharing the filter', async () => {
      const statements: StatementEvent[] = [];
      await fed.gateway.flushAudit(); // earlier writes' audit entries are not this request's statements
      const stop = fed.databases[0]!.onStatement((s) => statements.push(s));
      const result = await query(`query($c: [ID!]!) { units(codes: $c) { events(first: 1, filter: { types: [MANUFACTURED, DEPLOYED] }) { totalCount edges { node { type } } } } }`, { c: u });
      stop();
      expect(result.units.map((x: any) => x.events.totalCount)).toEqual([2, 1, 1, 1, 2, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0]);
      expect(statements.filter((s) => s.schema === 'lifecycle')).toHaveLength(2);
    });
  });

  describe('Registry', () => {
    it('unitsInState pages through the units in a state by code, as units of the whole graph', async () => {
      const Q = `query($after: String) { registry(country: "CN") { unitsInState(state: IN_STOCK, first: 2, after: $after) {
        totalCount edges { cursor node { code serial state } } pageInfo { hasNextPage endCursor } } } }`;
      const seen: string[] = [];
      let after: string | null = null;
      for (let i = 0; i < 5; i++) {
        const { unitsInState }: { unitsInState: any } = (await query(Q, { after })).registry;
        expect(unitsInState.totalCount).toBe(5);
        for (const edge of unitsInState.edges) {
          expect(edge.node.state).toBe('IN_STOCK');
          expect(edge.node.serial).toBe(edge.node.code.slice(12));
          seen.push(edge.node.code);
        }
        if (!unitsInState.pageInfo.hasNextPage) break;
        after = unitsInState.pageInfo.endCursor;
      }
      expect(seen).toEqual(u.slice(5, 10));

      const other = await query(`{ registry(country: "CN") {
        stolen: unitsInState(state: STOLEN) { totalCount edges { node { code } } }
        registered: unitsInState(state: REGISTERED) { totalCount edges { node { code } } }
      } }`);
      expect(other.registry.stolen).toEqual({ totalCount: 1, edges: [{ node: { code: u[3] } }] });
      // Units with no events have no lifecycle row to list (see unitsByState for their count).
      expect(other.registry.registered).toEqual({ totalCount: 0, edges: [] });

      const limits = await fed.query(`{ registry(country: "CN") { unitsInState(state: IN_STOCK, first: 501) { totalCount } } }`);
      expect(limits.errors?.[0]?.extensions?.code).toBe('LIMIT_EXCEEDED');
      const forged = await fed.query(`{ registry(country: "CN") { unitsInState(state: IN_STOCK, after: "Zm9v") { totalCount } } }`);
      expect(forged.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    });

    it('unitsByState lists every state, REGISTERED counting the units with no events', async () => {
      const { registry } = await query(`{ registry(country: "CN") { unitCount unitsByState { state count } } }`);
      expect(registry.unitCount).toBe(15);
      expect(registry.unitsByState).toEqual([
        { state: 'REGISTERED', count: 5 },
        { state: 'IN_STOCK', count: 5 },
        { state: 'IN_SERVICE', count: 2 },
        { state: 'IN_TRANSIT', count: 1 },
        { state: 'STOLEN', count: 1 },
        { state: 'DECOMMISSIONED', count: 0 },
        { state: 'SCRAPPED', count: 1 },
        { state: 'RECYCLED', count: 0 },
      ]);
    });

    it('unitsByState takes unitCount from the representation, as the gateway sends it', async () => {
      const ask = async (representations: unknown[]) => {
        const response = await signedFetch(fed.nodes[0]!.urls.lifecycle!, 'lifecycle', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: `query($r: [_Any!]!) { _entities(representations: $r) { ... on Registry { country unitsByState { state count } } } }`, variables: { r: representations } }),
        });
        return (await response.json()) as any;
      };
      const answered = await ask([{ __typename: 'Registry', country: 'CN', unitCount: 20 }, { __typename: 'Registry', country: 'DE', unitCount: 3 }]);
      expect(answered.errors).toBeUndefined();
      expect(answered.data._entities[0].unitsByState[0]).toEqual({ state: 'REGISTERED', count: 10 });
      expect(answered.data._entities[1]).toBeNull();
      // The units service did not answer (null), or the caller did not send it at all.
      expect((await ask([{ __typename: 'Registry', country: 'CN', unitCount: null }])).errors?.[0]?.extensions?.code).toBe('REGISTRY_UNAVAILABLE');
      expect((await ask([{ __typename: 'Registry', country: 'CN' }])).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    });

    it('eventsPerMonth counts by UTC month, zeros included, oldest first', async () => {
      const Q = `query($from: DateTime, $before: DateTime, $types: [LifecycleEventType!]) { registry(country: "CN") { eventsPerMonth(from: $from, before: $before, types: $types) { month count } } }`;
      const all = (await query(Q, { from: '2024-01-01T00:00:00Z', before: '2024-09-01T00:00:00Z' })).registry.eventsPerMonth;
      expect(all).toEqual([
        { month: '2024-01', count: 10 },
        { month: '2024-02', count: 3 },
        { month: '2024-03', count: 3 },
        { month: '2024-04', count: 0 },
        { month: '2024-05', count: 1 },
        { month: '2024-06', count: 2 },
        { month: '2024-07', count: 1 },
        { month: '2024-08', count: 0 },
      ]);
      const service = (await query(Q, { from: '2024-02-15T00:00:00Z', before: '2024-05-10T10:00:00.001Z', types: ['MAINTAINED', 'REPAIRED'] })).registry.eventsPerMonth;
      expect(service).toEqual([
        { month: '2024-02', count: 0 },
        { month: '2024-03', count: 3 },
        { month: '2024-04', count: 0 },
        { month: '2024-05', count: 1 },
      ]);

      // Without bounds: from the first event's month to the current month.
      const open = (await query(Q, {})).registry.eventsPerMonth;
      const now = new Date();
      expect(open[0]).toEqual({ month: '2024-01', count: 10 });
      expect(open.at(-1).month).toBe(`${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, '0')}`);
      expect(open.reduce((sum: number, m: any) => sum + m.count, 0)).toBe(20);
      expect((await query(Q, { types: [] })).registry.eventsPerMonth).toEqual([]);

      const tenYears = (await query(Q, { from: '2014-01-01T00:00:00Z', before: '2024-01-01T00:00:00Z' })).registry.eventsPerMonth;
      expect(tenYears).toHaveLength(120);
      for (const range of [{ from: '2013-12-01T00:00:00Z', before: '2024-01-01T00:00:00Z' }, { from: '2000-01-01T00:00:00Z' }]) {
        const tooLong = await fed.query(Q, range);
        expect(tooLong.errors?.[0]?.extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', max: 120 });
      }
    });

    it('events lists the registry\'s events in recording order with a keyset cursor, filtered', async () => {
      const Q = `query($first: Int, $after: String, $f: EventFilter) { registry(country: "CN") { events(first: $first, after: $after, filter: $f) {
        totalCount edges { node { eventId type unit { code } } } pageInfo { hasNextPage endCursor } } } }`;
      const seen: string[] = [];
      let after: string | null = null;
      for (;;) {
        const { events }: { events: any } = (await query(Q, { first: 6, after })).registry;
        expect(events.totalCount).toBe(recorded.length);
        seen.push(...events.edges.map((e: any) => e.node.eventId));
        if (!events.pageInfo.hasNextPage) break;
        after = events.pageInfo.endCursor;
        if (seen.length === 6) {
          // Recorded while paging: it shows up at the end, nothing is skipped or repeated.
          await record([{ unit: u[5]!, type: 'MAINTAINED', at: '2024-08-01T00:00:00Z' }]);
        }
      }
      expect(seen).toEqual(recorded);

      const maintained = (await query(Q, { f: { types: ['MAINTAINED'], occurredBefore: '2024-04-01T00:00:00Z' } })).registry.events;
      expect(maintained.totalCount).toBe(3);
      expect(maintained.edges.map((e: any) => e.node.unit.code)).toEqual([u[0], u[0], u[0]]);

      const tooMany = await fed.query(Q, { first: 501 });
      expect(tooMany.errors?.[0]?.extensions?.code).toBe('LIMIT_EXCEEDED');
      const forged = await fed.query(Q, { after: Buffer.from('x1').toString('base64url') });
      expect(forged.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    });
  });
});
