import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDirectory } from '../gateway/directory/registry-directory.js';
import { seedDemoData, VERDICT_EXAMPLES } from '../scripts/demo/seed.js';
import { PARTNERS_FILE, partnerEntryMessage } from '../scripts/partner-entry-message.js';
import { registryCounts, startBanner } from '../scripts/start-banner.js';
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

  // What a newcomer reads first: the README, the `npm start` banner and `npm run registry` say the same.
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

  it('states the numbers of enterprises, models and units the demo has, as the banner does', async () => {
    const stated = /demo data is seeded on first start \((\d+) enterprises, (\d+) models, ([\d,]+) units/.exec(readme.replace(/\s+/g, ' '));
    expect(stated, 'the README states the demo numbers').not.toBeNull();
    const [, enterprises, models, units] = stated!;
    const counts = await registryCounts(fed.gateway.url, 'CN', await fed.headers());
    expect(counts).toEqual({ enterprises: Number(enterprises), models: Number(models), units: Number(units!.replaceAll(',', '')) });

    const banner = startBanner({ url: fed.gateway.url, country: 'CN', counts, seeded: true, database: 'embedded PGlite in data/registry', gatewayPid: 2, nodePid: 1, nodeUrls: fed.nodes[0]!.urls as Record<string, string> });
    expect(banner).toContain(`${enterprises} enterprises, ${models} models, ${units} units`);
    expect(banner.trim().split('\n').length).toBeLessThanOrEqual(15);
    expect(banner).toContain(`${new URL(fed.gateway.url).origin}/id/`);
    // The codes it offers to try get the verdict it names them by.
    const offered = [...banner.matchAll(/\b(ADMIT|STOLEN|OPEN_RECALL) ([0-9A-Z]{29})\b/g)].map(([, reason, code]) => ({ reason, code }));
    expect(offered.map((o) => o.reason)).toEqual(['ADMIT', 'STOLEN', 'OPEN_RECALL']);
    const result = await fed.query('query($c: [String!]!) { verifyMany(codes: $c) { verdict reasons { code } } }', { c: offered.map((o) => o.code) });
    expect(result.data.verifyMany).toEqual([
      { verdict: 'ADMIT', reasons: [] },
      { verdict: 'REFUSE', reasons: [{ code: 'STOLEN' }] },
      { verdict: 'REFUSE', reasons: [{ code: 'OPEN_RECALL' }] },
    ]);
  });

  it("prints, for npm run registry, the README's partners file: a whole directory file the gateway accepts", () => {
    const urls = { enterprises: 5000, 'product-models': 5001, units: 5002, lifecycle: 5003, audit: 5004 };
    const message = partnerEntryMessage('DE robot registry', 'DE', Object.fromEntries(Object.entries(urls).map(([sg, port]) => [sg, `http://127.0.0.1:${port}/graphql`])));
    const printed = JSON.parse(message.slice(message.indexOf('{'), message.lastIndexOf('}') + 1));
    const inReadme = new RegExp(`cat > ${PARTNERS_FILE.replace('.', '\\.')} <<'JSON'\\n([\\s\\S]*?)\\nJSON`).exec(readme);
    expect(inReadme, `the README writes ${PARTNERS_FILE}`).not.toBeNull();
    expect(printed).toEqual(JSON.parse(inReadme![1]!));
    expect(message).toContain(`DIRECTORY_FILE=${PARTNERS_FILE} npm start`);
    expect(readme).toContain(`DIRECTORY_FILE=${PARTNERS_FILE} npm start`);
    const home = { name: 'CN registry', countries: ['CN'], home: true, subgraphs: fed.nodes[0]!.urls };
    expect(buildDirectory({ registries: [home, ...printed.registries] }).registries.map((r) => r.countries)).toEqual([['CN'], ['DE']]);
  });
});
