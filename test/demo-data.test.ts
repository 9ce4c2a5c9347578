import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoData, VERDICT_EXAMPLES } from '../scripts/demo/seed.js';
import { startFederation, type Federation } from './support/federation.js';

/** The demo data `npm start` seeds: through the public API, with one code per verdict reason. */
describe('demo data', () => {
  let fed: Federation;
  beforeAll(async () => {
    fed = await startFederation([{ country: 'CN' }]);
    expect(await seedDemoData(fed.gateway.url, await fed.headers())).toBe(true);
  }, 240_000);
  afterAll(() => fed?.stop());

  it('seeds once: a second start finds it and leaves it alone', async () => {
    expect(await seedDemoData(fed.gateway.url, await fed.headers())).toBe(false);
    const result = await fed.query(`{ registry(country: "CN") { unitCount enterprises { totalCount } productModels { totalCount } } }`);
    expect(result.data.registry).toEqual({ unitCount: 1000, enterprises: { totalCount: 5 }, productModels: { totalCount: 6 } });
  });

  it('has a code for every verdict reason, and each gets that verdict', async () => {
    const entries = Object.entries(VERDICT_EXAMPLES);
    const result = await fed.query(`query($c: [String!]!) { verifyMany(codes: $c) { verdict reasons { code } } }`, { c: entries.map(([, code]) => code) });
    expect(result.errors).toBeUndefined();
    entries.forEach(([reason, _], i) => {
      const verification = result.data.verifyMany[i];
      if (reason.includes('ADMIT')) expect(verification, reason).toEqual({ verdict: 'ADMIT', reasons: [] });
      else expect(verification.reasons.map((r: { code: string }) => r.code), reason).toEqual([reason]);
    });
  });
});
