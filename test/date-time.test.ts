import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFederation, type Federation } from './support/federation.js';

/** DateTime arguments are checked against the calendar, as a variable and as a literal, through the gateway. */
describe('DateTime scalar', () => {
  let fed: Federation;
  beforeAll(async () => {
    fed = await startFederation([{ country: 'CN' }]);
  });
  afterAll(() => fed?.stop());

  const byVariable = (from: string) =>
    fed.query(`query($from: DateTime, $before: DateTime) { registry(country: "CN") { eventsPerMonth(from: $from, before: $before) { month count } } }`, {
      from,
      before: '2028-04-01T00:00:00Z',
    });
  const byLiteral = (from: string) =>
    fed.query(`{ registry(country: "CN") { eventsPerMonth(from: ${JSON.stringify(from)}, before: "2028-04-01T00:00:00Z") { month count } } }`);

  // A bad literal makes the whole document invalid: Apollo gives every validation error its own code.
  for (const [how, ask, code] of [['variable', byVariable, 'BAD_USER_INPUT'], ['literal', byLiteral, 'GRAPHQL_VALIDATION_FAILED']] as const) {
    it(`refuses 30 February as a ${how}, naming the value`, async () => {
      const result = await ask('2026-02-30T00:00:00Z');
      expect(result.data?.registry?.eventsPerMonth ?? null).toBeNull();
      expect(result.errors?.length).toBeGreaterThan(0);
      expect(result.errors?.[0]?.extensions?.code).toBe(code);
      expect(result.errors?.[0]?.message).toContain('2026-02-30T00:00:00Z');
    });

    it(`takes the leap day 2028-02-29 as a ${how}, in February`, async () => {
      const result = await ask('2028-02-29T00:00:00Z');
      expect(result.errors).toBeUndefined();
      // Rolled over to 1 March, the series would start in March.
      expect(result.data.registry.eventsPerMonth.map((m: { month: string }) => m.month)).toEqual(['2028-02', '2028-03']);
    });
  }

  it('refuses a time without seconds or an offset, saying what form it needs (docs/partner-contract.md, Scalars)', async () => {
    for (const value of ['2026-11-20T08:00Z', '2026-11-20T08:00:00', '2026-11-20', '2026-11-20t08:00:00z']) {
      const result = await byVariable(value);
      expect(result.errors?.[0]?.extensions?.code, value).toBe('BAD_USER_INPUT');
      expect(result.errors?.[0]?.message).toContain('with seconds and offset');
    }
    const fraction = await byVariable('2026-11-20T08:00:00.123456789+01:00');
    expect(fraction.errors).toBeUndefined();
  });

  it('refuses 29 February of a common year', async () => {
    const result = await byVariable('2027-02-29T12:00:00+02:00');
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0]?.message).toContain('2027-02-29T12:00:00+02:00');
  });
});
