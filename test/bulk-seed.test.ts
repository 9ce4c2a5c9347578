/**
 * The bulk loader, checked as a user of the registry would: load a few thousand units into a fresh
 * database, start a federation over it, and read everything back through the gateway. Runs on PGlite
 * (a data directory: the loader and the node open it in turn), and on Postgres with DATABASE_URL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseConfig } from '../lib/database/database.js';
import { replay, type LifecycleEventType, type UnitState } from '../subgraphs/lifecycle/state-machine.js';
import { planCatalogue } from '../scripts/seed/catalogue.js';
import { seededRandom } from '../scripts/seed/random.js';
import { seedRegistry, SeedRefusedError, type SeedOptions, type SeedSummary } from '../scripts/seed/seed-registry.js';
import { unitBatches } from '../scripts/seed/unit-batches.js';
import { startFederation, type Federation } from './support/federation.js';
import { createTestDatabase } from './support/test-database.js';

const UNITS = 2_000;

describe(`bulk loader (${process.env.DATABASE_URL ? 'Postgres' : 'PGlite'})`, () => {
  let database: DatabaseConfig;
  let cleanUp: () => Promise<void>;
  let options: SeedOptions;
  let summary: SeedSummary;
  let fed: Federation;
  let codes: string[];

  beforeAll(async () => {
    if (process.env.DATABASE_URL) {
      const testDb = await createTestDatabase();
      database = testDb.config;
      cleanUp = testDb.drop;
    } else {
      const dir = mkdtempSync(join(tmpdir(), 'bulk-seed-'));
      database = { dataDir: dir };
      cleanUp = async () => rmSync(dir, { recursive: true, force: true });
    }
    options = { database, country: 'CN', units: UNITS, eventsPerUnit: 3, enterprises: 3, models: 12, stolen: 0.01, scrapped: 0.02, recalled: 0.05, seed: 'test', append: false, batchSize: 700 };
    summary = await seedRegistry(options);
    fed = await startFederation([{ country: 'CN', database }]);
    codes = await allUnitCodes(fed);
  }, 180_000);

  afterAll(async () => {
    await fed?.stop();
    await cleanUp?.();
  });

  it('reports what it wrote, with the shares asked for', () => {
    expect(summary.units).toBe(UNITS);
    expect(summary.events).toBe(UNITS * 3);
    expect(summary.unitsByState.STOLEN).toBe(UNITS * 0.01);
    expect(summary.unitsByState.SCRAPPED).toBe(UNITS * 0.02);
    expect(summary.recalledUnits).toBe(UNITS * 0.05);
    expect(summary.rows['lifecycle.lifecycle_event']).toBe(UNITS * 3);
  });

  it('counts units per state as the summary does', async () => {
    const { data, errors } = await fed.query('{ registry(country: "CN") { unitCount unitsByState { state count } } }');
    expect(errors).toBeUndefined();
    expect(data.registry.unitCount).toBe(UNITS);
    expect(codes).toHaveLength(UNITS);
    const byState = Object.fromEntries(data.registry.unitsByState.map((s: { state: UnitState; count: number }) => [s.state, s.count]));
    expect(byState).toEqual(summary.unitsByState);
  });

  it('answers statistics that agree with the rows written', async () => {
    const { data, errors } = await fed.query('{ registry(country: "CN") { eventsPerMonth { count } unitsByModel { model { code } count } } }');
    expect(errors).toBeUndefined();
    const events = data.registry.eventsPerMonth.reduce((sum: number, m: { count: number }) => sum + m.count, 0);
    expect(events).toBe(summary.events);
    expect(data.registry.unitsByModel).toHaveLength(summary.models);
    expect(data.registry.unitsByModel.reduce((sum: number, m: { count: number }) => sum + m.count, 0)).toBe(UNITS);
  });

  it('gives every stolen, scrapped and recalled unit the customs verdict it deserves', async () => {
    const reasons = new Map<string, number>();
    for (let i = 0; i < codes.length; i += 1_000) {
      const { data, errors } = await fed.query('query($c: [String!]!) { verifyMany(codes: $c) { code verdict reasons { code } } }', { c: codes.slice(i, i + 1_000) });
      expect(errors).toBeUndefined();
      for (const v of data.verifyMany as { verdict: string; reasons: { code: string }[] }[]) {
        for (const r of v.reasons) reasons.set(r.code, (reasons.get(r.code) ?? 0) + 1);
        if (v.reasons.length > 0) expect(v.verdict).toBe('REFUSE');
      }
    }
    expect(reasons.get('STOLEN')).toBe(summary.unitsByState.STOLEN);
    expect(reasons.get('SCRAPPED')).toBe(summary.unitsByState.SCRAPPED);
    expect(reasons.get('OPEN_RECALL')).toBe(summary.recalledUnits);
  });

  it('refuses a stolen unit at the border', async () => {
    const page = await fed.query('{ registry(country: "CN") { unitsInState(state: STOLEN, first: 1) { edges { node { code } } } } }');
    const stolen = page.data.registry.unitsInState.edges[0].node.code;
    const { data } = await fed.query('query($c: String!) { verify(code: $c) { verdict reasons { code severity } } }', { c: stolen });
    expect(data.verify.verdict).toBe('REFUSE');
    expect(data.verify.reasons).toContainEqual({ code: 'STOLEN', severity: 'BLOCKING' });
  });

  it('stores histories the state machine accepts, and each unit state is their fold', async () => {
    const sample = [codes[0]!, codes[Math.floor(codes.length / 2)]!, codes.at(-1)!];
    const stolen = await fed.query('{ registry(country: "CN") { unitsInState(state: STOLEN, first: 2) { edges { node { code } } } } }');
    sample.push(...stolen.data.registry.unitsInState.edges.map((e: { node: { code: string } }) => e.node.code));
    const { data, errors } = await fed.query(
      'query($c: [ID!]!) { units(codes: $c) { code state events(first: 500) { edges { node { type sequence stateAfter occurredAt } } } } }',
      { c: sample },
    );
    expect(errors).toBeUndefined();
    for (const unit of data.units) {
      const events = unit.events.edges.map((e: { node: { type: LifecycleEventType; sequence: number; stateAfter: UnitState; occurredAt: string } }) => e.node);
      expect(events.map((e: { sequence: number }) => e.sequence)).toEqual([1, 2, 3]);
      expect(events[0].type).toBe('MANUFACTURED');
      const times = events.map((e: { occurredAt: string }) => Date.parse(e.occurredAt));
      expect([...times].sort((a, b) => a - b)).toEqual(times);
      const fold = replay(events.map((e: { type: LifecycleEventType }) => e.type));
      expect(fold.accepted).toBe(true);
      expect(fold.accepted && fold.status.state).toBe(unit.state);
      // Each event's stateAfter is the fold of the history up to it.
      events.forEach((e: { stateAfter: UnitState }, i: number) => {
        const prefix = replay(events.slice(0, i + 1).map((x: { type: LifecycleEventType }) => x.type));
        expect(prefix.accepted && prefix.status.state).toBe(e.stateAfter);
      });
    }
  });

  it('lets the API go on issuing serials after the loaded ones', async () => {
    const model = codes[0]!.slice(0, 12);
    const { data, errors } = await fed.query('mutation($m: ID!) { registerUnits(input: { model: $m, count: 1 }) { code } }', { m: model });
    expect(errors).toBeUndefined();
    const loaded = codes.filter((c) => c.startsWith(model)).map((c) => Number(c.slice(12)));
    expect(Number(data.registerUnits[0].code.slice(12))).toBe(Math.max(...loaded) + 1);
  });

  it('refuses to load again into a registry that holds data, unless asked to append', async () => {
    await fed.stop(); // the embedded database is one process's at a time
    fed = undefined as unknown as Federation;
    const refusal = await seedRegistry({ ...options, units: 10 }).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(SeedRefusedError);
    expect((refusal as Error).message).toContain(`already holds registry data (${(UNITS + 1).toLocaleString('en')} units); nothing was written`);
    expect((refusal as Error).message).toContain('pass --append');
    const appended = await seedRegistry({ ...options, units: 10, stolen: 0, scrapped: 0, recalled: 0, append: true });
    expect(appended.units).toBe(10);
  }, 60_000);
});

/** Every unit code of the registry, through the analysts' paged list. */
async function allUnitCodes(fed: Federation): Promise<string[]> {
  const codes: string[] = [];
  let after: string | null = null;
  for (;;) {
    const response: { data?: any; errors?: unknown } = await fed.query(
      'query($after: String) { registry(country: "CN") { units(first: 500, after: $after) { edges { node { code } } pageInfo { hasNextPage endCursor } } } }',
      { after },
    );
    expect(response.errors).toBeUndefined();
    const page: { edges: { node: { code: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } = response.data.registry.units;
    codes.push(...page.edges.map((e) => e.node.code));
    if (!page.pageInfo.hasNextPage) return codes;
    after = page.pageInfo.endCursor;
  }
}

describe('generated histories', () => {
  it('are accepted by the state machine event by event, with exact shares, for any seed and length', () => {
    for (const [seed, eventsPerUnit] of [['a', 2], ['b', 3], ['c', 7]] as const) {
      const models = planCatalogue({ country: 'CN', units: 5_000, enterprises: 2, models: 7 }).models;
      const to = new Date();
      const from = new Date(to.getTime() - 365 * 86_400_000);
      const states = new Map<UnitState, number>();
      let units = 0;
      for (const batch of unitBatches({ random: seededRandom(seed), models, home: 'CN', eventsPerUnit, stolen: 50, scrapped: 100, batchSize: 1_000, from, to })) {
        const e = batch.events;
        for (let u = 0; u < batch.states.unitCode.length; u++) {
          const code = batch.states.unitCode[u]!;
          const rows = e.unitCode.flatMap((c, i) => (c === code ? [i] : []));
          expect(rows.map((i) => e.sequence[i])).toEqual(Array.from({ length: eventsPerUnit }, (_, k) => k + 1));
          const fold = replay(rows.map((i) => e.type[i] as LifecycleEventType));
          expect(fold.accepted && fold.status.state).toBe(batch.states.state[u]);
          const foldAt = (k: number) => {
            const prefix = replay(rows.slice(0, k + 1).map((i) => e.type[i] as LifecycleEventType));
            return prefix.accepted && prefix.status.state;
          };
          expect(rows.map((i) => e.stateAfter[i])).toEqual(rows.map((_, k) => foldAt(k)));
          expect(rows.every((i) => e.type[i] !== 'EXPORTED' || e.country[i] !== 'CN')).toBe(true);
        }
        for (const [state, n] of batch.stateCounts) states.set(state, (states.get(state) ?? 0) + n);
        units += batch.units.code.length;
      }
      expect(units).toBe(5_000);
      expect(states.get('STOLEN')).toBe(50);
      expect(states.get('SCRAPPED')).toBe(100);
    }
  });
});
