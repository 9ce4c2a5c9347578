import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFederation, type Federation } from './support/federation.js';
import { signedFetch } from './support/signing.js';

/**
 * The analyst's view of units through the gateway: Registry.units filtered by model, enterprise and
 * registration time, paginated with a totalCount under the same filter, and unit counts per model.
 */
describe('unit filters and per-model counts', () => {
  const A = 'CNUF01AAAAAA';
  const B = 'CNUF01BBBBBB';
  const C = 'CNUF02CCCCCC';
  let fed: Federation;
  /** registeredAt of the three registration batches, in order: A (5 units), B (3), C (7). */
  const at: Record<'A' | 'B' | 'C', string> = { A: '', B: '', C: '' };

  beforeAll(async () => {
    fed = await startFederation([{ country: 'CN' }]);
    const setup = await fed.query(`mutation {
      e1: registerEnterprise(input: { code: "CNUF01", name: "Filter One" }) { code }
      e2: registerEnterprise(input: { code: "CNUF02", name: "Filter Two" }) { code }
    }`);
    expect(setup.errors).toBeUndefined();
    for (const [code, name] of [[A, 'Alpha'], [B, 'Beta'], [C, 'Gamma']] as const) {
      const model = await fed.query(`mutation { registerProductModel(input: { code: "${code}", name: "${name}", category: "humanoid" }) { code } }`);
      expect(model.errors).toBeUndefined();
    }
    for (const [key, model, count] of [['A', A, 5], ['B', B, 3], ['C', C, 7]] as const) {
      // Registration times are compared at millisecond precision: start each batch after the clock has
      // moved past the previous one's registration (waits on the clock, not for a fixed time).
      const previous = Object.values(at).filter(Boolean).map((t) => Date.parse(t));
      while (previous.length && Date.now() <= Math.max(...previous)) await new Promise((resolve) => setImmediate(resolve));
      const units = await fed.query(`mutation { registerUnits(input: { model: "${model}", count: ${count} }) { registeredAt } }`);
      expect(units.errors).toBeUndefined();
      at[key] = units.data.registerUnits[0].registeredAt;
    }
  });
  afterAll(() => fed?.stop());

  const UNITS = `query($filter: UnitFilter, $first: Int, $after: String) { registry(country: "CN") {
    units(first: $first, after: $after, filter: $filter) { totalCount pageInfo { hasNextPage endCursor } edges { node { code registeredAt } } }
  } }`;

  interface Page {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    codes: string[];
  }

  async function units(filter: Record<string, unknown> | null, first = 50, after: string | null = null): Promise<Page> {
    const result = await fed.query(UNITS, { filter, first, after });
    expect(result.errors, JSON.stringify(filter)).toBeUndefined();
    const connection = result.data.registry.units;
    return { ...connection, codes: connection.edges.map((e: { node: { code: string } }) => e.node.code) as string[] };
  }

  it('filters by model and by enterprise, with codes normalised', async () => {
    const byModel = await units({ model: 'cn-uf01-aaaaaa' });
    expect(byModel.totalCount).toBe(5);
    expect(byModel.codes.every((c) => c.startsWith(A))).toBe(true);
    expect([...byModel.codes].sort()).toEqual(byModel.codes);

    const byEnterprise = await units({ enterprise: 'CN-UF01' });
    expect(byEnterprise.totalCount).toBe(8);
    expect(new Set(byEnterprise.codes.map((c) => c.slice(0, 12)))).toEqual(new Set([A, B]));

    // All conditions must hold: a model outside the enterprise matches nothing.
    expect((await units({ model: C, enterprise: 'CNUF01' })).totalCount).toBe(0);
    expect((await units({ model: C, enterprise: 'CNUF02' })).totalCount).toBe(7);
    // No filter, or an empty one, is every unit of the registry.
    expect((await units(null)).totalCount).toBe(15);
    expect((await units({})).totalCount).toBe(15);
    // A well-formed code of another country matches nothing here.
    expect((await units({ model: 'DEUF01AAAAAA' })).totalCount).toBe(0);
  });

  it('filters by registration time: registeredFrom inclusive, registeredBefore exclusive', async () => {
    const fromB = await units({ registeredFrom: at.B });
    expect(fromB.totalCount).toBe(10);
    expect(new Set(fromB.codes.map((c) => c.slice(0, 12)))).toEqual(new Set([B, C]));

    const beforeB = await units({ registeredBefore: at.B });
    expect(beforeB.totalCount).toBe(5);
    expect(beforeB.codes.every((c) => c.startsWith(A))).toBe(true);

    const onlyB = await units({ registeredFrom: at.B, registeredBefore: at.C });
    expect(onlyB.totalCount).toBe(3);
    expect(onlyB.codes.every((c) => c.startsWith(B))).toBe(true);

    // Offsets are honoured: the same instant written in another zone.
    const shifted = new Date(at.B).toISOString().replace('Z', '+00:00');
    expect((await units({ registeredFrom: shifted, enterprise: 'CNUF01' })).totalCount).toBe(3);
    expect((await units({ registeredFrom: at.C, registeredBefore: at.B })).totalCount).toBe(0);
  });

  it('pages through a filtered list by keyset, with the filter\'s totalCount on every page', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    const pages: { totalCount: number; size: number; hasNextPage: boolean }[] = [];
    for (let i = 0; i < 5; i++) {
      const page = await units({ enterprise: 'CNUF01' }, 3, after);
      pages.push({ totalCount: page.totalCount, size: page.codes.length, hasNextPage: page.pageInfo.hasNextPage });
      seen.push(...page.codes);
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(pages).toEqual([
      { totalCount: 8, size: 3, hasNextPage: true },
      { totalCount: 8, size: 3, hasNextPage: true },
      { totalCount: 8, size: 2, hasNextPage: false },
    ]);
    expect(seen).toEqual([...seen].sort());
    expect(new Set(seen).size).toBe(8);
    const all = await units({ enterprise: 'CNUF01' });
    expect(all.codes).toEqual(seen);
  });

  it('refuses malformed codes in the filter with MALFORMED_CODE', async () => {
    const model = await fed.query(UNITS, { filter: { model: 'CNUF01AAA' } });
    expect(model.errors![0]!.extensions).toMatchObject({ code: 'MALFORMED_CODE', problems: [expect.objectContaining({ kind: 'LENGTH' })] });
    expect(model.errors![0]!.message).toMatch(/product model code "CNUF01AAA"/);
    const enterprise = await fed.query(UNITS, { filter: { enterprise: 'CN!F01' } });
    expect(enterprise.errors![0]!.extensions).toMatchObject({ code: 'MALFORMED_CODE', problems: [expect.objectContaining({ kind: 'CHARACTER', position: 3 })] });
    // A date without time and offset is ambiguous across borders. Asked of the subgraph directly: the
    // gateway reports a subgraph's variable-coercion failure (HTTP 400) as the registry being unavailable.
    const response = await signedFetch(fed.nodes[0]!.urls.units!, 'units', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: `query($r: [_Any!]!, $filter: UnitFilter) { _entities(representations: $r) { ... on Registry { units(filter: $filter) { totalCount } } } }`,
        variables: { r: [{ __typename: 'Registry', country: 'CN' }], filter: { registeredFrom: '2026-11-25' } },
      }),
    });
    const date = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(date.errors[0]).toMatchObject({ message: expect.stringMatching(/DateTime must be an ISO-8601 date-time with seconds and offset/), extensions: { code: 'BAD_USER_INPUT' } });
  });

  it('counts units per model, largest first, with the model resolved through federation', async () => {
    const result = await fed.query(`{ registry(country: "CN") { unitCount unitsByModel { count model { code name enterprise { name } } } } }`);
    expect(result.errors).toBeUndefined();
    expect(result.data.registry).toEqual({
      unitCount: 15,
      unitsByModel: [
        { count: 7, model: { code: C, name: 'Gamma', enterprise: { name: 'Filter Two' } } },
        { count: 5, model: { code: A, name: 'Alpha', enterprise: { name: 'Filter One' } } },
        { count: 3, model: { code: B, name: 'Beta', enterprise: { name: 'Filter One' } } },
      ],
    });
  });
});
