import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatementEvent } from '../lib/database/database.js';
import { startFederation, type Federation } from './support/federation.js';

/**
 * The batching contract: resolving a batch of entities costs one SQL statement per subgraph, whatever
 * the batch size. Counted at the database driver, for 1,000 codes in one request through the gateway.
 */
describe('batching', () => {
  let fed: Federation;
  let codes: string[];
  beforeAll(async () => {
    fed = await startFederation([{ country: 'CN' }]);
    const setup = await fed.query(`mutation {
      registerEnterprise(input: { code: "CNBT01", name: "Batch Robotics" }) { code }
    }`);
    expect(setup.errors).toBeUndefined();
    for (const model of ['CNBT01AAAAAA', 'CNBT01BBBBBB']) {
      const m = await fed.query(`mutation($c: ID!) { registerProductModel(input: { code: $c, name: "M", category: "humanoid" }) { code } }`, { c: model });
      expect(m.errors).toBeUndefined();
    }
    codes = [];
    for (const model of ['CNBT01AAAAAA', 'CNBT01BBBBBB']) {
      const units = await fed.query(`mutation($m: ID!) { registerUnits(input: { model: $m, count: 500 }) { code } }`, { m: model });
      expect(units.errors).toBeUndefined();
      codes.push(...units.data.registerUnits.map((u: { code: string }) => u.code));
    }
    const events = codes.map((code, i) => ({ eventId: `batch-${i}`, unit: code, type: 'MANUFACTURED', occurredAt: new Date(Date.now() - 86_400_000).toISOString() }));
    const recorded = await fed.query(`mutation($e: [LifecycleEventInput!]!) { recordEvents(events: $e) { eventId } }`, { e: events });
    expect(recorded.errors).toBeUndefined();
  });
  afterAll(() => fed?.stop());

  it('resolves 1,000 units with their model, enterprise, state and events in one statement per subgraph', async () => {
    await fed.gateway.flushAudit(); // the writes' audit entries are not this query's statements
    const statements: StatementEvent[] = [];
    const unsubscribe = fed.databases[0]!.onStatement((event) => statements.push(event));
    const result = await fed.query(
      `query($codes: [ID!]!) { units(codes: $codes) {
        code serial registeredAt
        model { code name }
        enterprise { code name status }
        state
        events(first: 5) { totalCount edges { node { type sequence } } }
      } }`,
      { codes },
    );
    unsubscribe();
    expect(result.errors).toBeUndefined();
    expect(result.data.units).toHaveLength(1000);
    expect(result.data.units.map((u: { code: string }) => u.code)).toEqual(codes);
    expect(result.data.units[999]).toMatchObject({ model: { code: 'CNBT01BBBBBB', name: 'M' }, enterprise: { name: 'Batch Robotics' }, state: 'IN_STOCK', events: { totalCount: 1 } });

    const bySchema = countBy(statements.map((s) => s.schema));
    expect(bySchema).toEqual({
      units: 1,
      product_models: 1,
      enterprises: 1,
      // One for the units' lifecycle summaries (state, event count), one for the event pages.
      lifecycle: 2,
    });
  });

  it('costs one statement per fetch of the query plan when a subgraph is reached twice', async () => {
    // enterprise is reached from the unit and, one level later, from the unit's model: two fetches.
    await fed.gateway.flushAudit(); // the writes' audit entries are not this query's statements
    const statements: StatementEvent[] = [];
    const unsubscribe = fed.databases[0]!.onStatement((event) => statements.push(event));
    const result = await fed.query(`query($codes: [ID!]!) { units(codes: $codes) { enterprise { name } model { enterprise { name } } } }`, { codes });
    unsubscribe();
    expect(result.errors).toBeUndefined();
    expect(result.data.units[500]).toEqual({ enterprise: { name: 'Batch Robotics' }, model: { enterprise: { name: 'Batch Robotics' } } });
    expect(countBy(statements.map((s) => s.schema))).toEqual({ units: 1, product_models: 1, enterprises: 2 });
  });

  it('verifies 1,000 codes with a constant number of statements per subgraph', async () => {
    const count = async (codesToVerify: string[]) => {
      await fed.gateway.flushAudit(); // the writes' audit entries are not this query's statements
      const statements: StatementEvent[] = [];
      const unsubscribe = fed.databases[0]!.onStatement((event) => statements.push(event));
      const result = await fed.query(`query($c: [String!]!) { verifyMany(codes: $c) { code verdict reasons { code } unit { code } } }`, { c: codesToVerify });
      unsubscribe();
      expect(result.errors).toBeUndefined();
      expect(result.data.verifyMany.map((v: { code: string }) => v.code)).toEqual(codesToVerify);
      expect(result.data.verifyMany.every((v: { verdict: string }) => v.verdict === 'ADMIT')).toBe(true);
      return countBy(statements.map((s) => s.schema));
    };
    const thousand = await count(codes);
    expect(thousand).toEqual(await count(codes.slice(0, 3)));
    expect(thousand).toEqual({ units: 1, enterprises: 1, product_models: 1, lifecycle: 1 });
  });

  it('costs the same number of statements for 10 codes as for 1,000', async () => {
    await fed.gateway.flushAudit(); // the writes' audit entries are not this query's statements
    const statements: StatementEvent[] = [];
    const unsubscribe = fed.databases[0]!.onStatement((event) => statements.push(event));
    const result = await fed.query(`query($codes: [ID!]!) { units(codes: $codes) { code model { name } enterprise { name } state } }`, { codes: codes.slice(0, 10) });
    unsubscribe();
    expect(result.errors).toBeUndefined();
    expect(countBy(statements.map((s) => s.schema))).toEqual({ units: 1, product_models: 1, enterprises: 1, lifecycle: 1 });
  });
});

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
