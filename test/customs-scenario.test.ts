import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFederation, type Federation } from './support/federation.js';

/**
 * The foundation's acceptance scenario, through the gateway only: a manufacturer registers an
 * enterprise, a model and 50 units; customs fetches them with an unregistered and a foreign code.
 */
describe('customs scenario through the gateway', () => {
  let fed: Federation;
  beforeAll(async () => {
    fed = await startFederation([{ country: 'CN' }]);
  });
  afterAll(() => fed?.stop());

  it('registers an enterprise, a model and 50 units, then reads them back in order with nulls and errors', async () => {
    const enterprise = await fed.query(`mutation { registerEnterprise(input: { code: "cn-a1b2", name: "Unitree Robotics" }) { code display name status country } }`);
    expect(enterprise.errors).toBeUndefined();
    expect(enterprise.data.registerEnterprise).toEqual({ code: 'CNA1B2', display: 'CN-A1B2', name: 'Unitree Robotics', status: 'ACTIVE', country: 'CN' });

    const model = await fed.query(`mutation { registerProductModel(input: { code: "CN-A1B2-H10000", name: "H1", category: "humanoid" }) { code name enterprise { code name } } }`);
    expect(model.errors).toBeUndefined();
    expect(model.data.registerProductModel).toEqual({ code: 'CNA1B2H10000', name: 'H1', enterprise: { code: 'CNA1B2', name: 'Unitree Robotics' } });

    const units = await fed.query(`mutation($m: ID!) { registerUnits(input: { model: $m, count: 50 }) { code serial model { name } enterprise { name } state } }`, { m: 'CNA1B2H10000' });
    expect(units.errors).toBeUndefined();
    const registered = units.data.registerUnits as { code: string; serial: string; state: string }[];
    expect(registered).toHaveLength(50);
    expect(registered[0]).toMatchObject({ code: 'CNA1B2H10000' + '1'.padStart(17, '0'), model: { name: 'H1' }, enterprise: { name: 'Unitree Robotics' }, state: 'REGISTERED' });
    expect(new Set(registered.map((u) => u.code)).size).toBe(50);

    const unregistered = 'CNA1B2H10000' + '9'.repeat(17);
    const foreign = 'XXA1B2H10000' + '1'.padStart(17, '0');
    const codes = [...registered.map((u) => u.code).slice(0, 25), unregistered, foreign, ...registered.map((u) => u.code).slice(25)];
    const read = await fed.query(`query($codes: [ID!]!) { units(codes: $codes) { code serial model { code name } state } }`, { codes });
    const list = read.data.units as ({ code: string } | null)[];
    expect(list).toHaveLength(52);
    expect(list.map((u) => u?.code ?? null)).toEqual([...registered.slice(0, 25).map((u) => u.code), null, null, ...registered.slice(25).map((u) => u.code)]);
    expect(list[0]).toMatchObject({ model: { code: 'CNA1B2H10000', name: 'H1' }, state: 'REGISTERED' });
    // The unregistered code is simply null; the foreign one has an error naming its country.
    expect(read.errors).toHaveLength(1);
    expect(read.errors![0]).toMatchObject({ path: ['units', 26], extensions: { code: 'UNKNOWN_COUNTRY', country: 'XX' } });
  });

  it('refuses malformed codes with the problems, per item in a list', async () => {
    const one = await fed.query(`{ unit(code: "CN-A1B2-H1000") { code } }`);
    expect(one.data).toEqual({ unit: null });
    expect(one.errors![0]!.extensions).toMatchObject({ code: 'MALFORMED_CODE', problems: [{ kind: 'LENGTH' }] });

    const many = await fed.query(`query($c: [ID!]!) { units(codes: $c) { code } }`, { c: ['CNA1B2H10000' + '1'.padStart(17, '0'), 'CNA1B2H10000a0000000000000000!'] });
    expect(many.data.units[0].code).toBe('CNA1B2H10000' + '1'.padStart(17, '0'));
    expect(many.data.units[1]).toBeNull();
    expect(many.errors).toHaveLength(1);
    expect(many.errors![0]).toMatchObject({ path: ['units', 1], extensions: { code: 'MALFORMED_CODE' } });
    expect(many.errors![0]!.extensions!.problems).toEqual([expect.objectContaining({ kind: 'LENGTH' }), expect.objectContaining({ kind: 'CHARACTER', position: 30 })]);
  });

  it('answers enterprise and productModel by code, null when not registered, UNKNOWN_COUNTRY for a foreign one', async () => {
    const result = await fed.query(`{ a: enterprise(code: "CNA1B2") { name productModels { totalCount edges { node { code } } } } b: enterprise(code: "CNZZZZ") { name } c: productModel(code: "CNA1B2H10000") { name unitCount units(first: 2) { totalCount pageInfo { hasNextPage } } } d: productModel(code: "DEA1B2H10000") { name } }`);
    expect(result.data).toEqual({
      a: { name: 'Unitree Robotics', productModels: { totalCount: 1, edges: [{ node: { code: 'CNA1B2H10000' } }] } },
      b: null,
      c: { name: 'H1', unitCount: 50, units: { totalCount: 50, pageInfo: { hasNextPage: true } } },
      d: null,
    });
    expect(result.errors).toEqual([expect.objectContaining({ path: ['d'], extensions: expect.objectContaining({ code: 'UNKNOWN_COUNTRY', country: 'DE' }) })]);
  });

  it('refuses duplicates, unknown models and foreign writes, and writes nothing on failure', async () => {
    const again = await fed.query(`mutation { registerEnterprise(input: { code: "CNA1B2", name: "Copy" }) { code } }`);
    expect(again.errors![0]!.extensions!.code).toBe('ALREADY_REGISTERED');

    const unknownModel = await fed.query(`mutation { registerUnits(input: { model: "CNA1B2ZZZZZZ", count: 3 }) { code } }`);
    expect(unknownModel.errors![0]!.extensions!.code).toBe('UNKNOWN_MODEL');

    const foreign = await fed.query(`mutation { registerEnterprise(input: { code: "DEA1B2", name: "Elsewhere" }) { code } }`);
    expect(foreign.errors![0]!.extensions!.code).toBe('FOREIGN_COUNTRY');

    // One serial already taken: the whole call fails and none of the new serials is written.
    const taken = '1'.padStart(17, '0');
    const fresh = 'A'.repeat(17);
    const partial = await fed.query(`mutation($s: [String!]) { registerUnits(input: { model: "CNA1B2H10000", serials: $s }) { code } }`, { s: [fresh, taken] });
    expect(partial.errors![0]!.extensions!.code).toBe('ALREADY_REGISTERED');
    const check = await fed.query(`{ unit(code: "CNA1B2H10000${fresh}") { code } productModel(code: "CNA1B2H10000") { unitCount } }`);
    expect(check.data).toEqual({ unit: null, productModel: { unitCount: 50 } });
  });

  it('never raises an error from verify for a bad code: a malformed one is a REFUSE with its problem', async () => {
    const hostile = ['', ' ', 'CN', '🤖'.repeat(15), 'x'.repeat(5000), "CN'; drop table units; --", 'cn-a1b2-h10000-0000000000000000\u0000'];
    const result = await fed.query(`query($c: [String!]!) { verifyMany(codes: $c) { code verdict reasons { code severity message } unit { code } } }`, { c: hostile });
    expect(result.errors).toBeUndefined();
    for (const [i, verification] of result.data.verifyMany.entries()) {
      expect(verification, hostile[i]!.slice(0, 20)).toMatchObject({ verdict: 'REFUSE', reasons: [{ code: 'MALFORMED_CODE', severity: 'BLOCKING' }], unit: null });
    }
    const tooMany = await fed.query(`query($c: [String!]!) { verifyMany(codes: $c) { verdict } }`, { c: Array(1001).fill('CN') });
    expect(tooMany.errors![0]!.extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', max: 1000 });
  });

  it('pages through a registry with cursors', async () => {
    const codes: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const result: any = await fed.query(`query($after: String) { registry(country: "CN") { name home units(first: 20, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { code } } } } }`, { after });
      expect(result.errors).toBeUndefined();
      const units = result.data.registry.units;
      codes.push(...units.edges.map((e: any) => e.node.code));
      if (!units.pageInfo.hasNextPage) break;
      after = units.pageInfo.endCursor;
    }
    expect(codes).toHaveLength(50);
    expect([...codes].sort()).toEqual(codes);
    const tooMany = await fed.query(`{ registry(country: "CN") { units(first: 501) { totalCount } } }`);
    expect(tooMany.errors![0]!.extensions!.code).toBe('LIMIT_EXCEEDED');
    // Only the documented extension keys reach a client (docs/partner-contract.md, "Errors"): no serviceName.
    expect(tooMany.errors![0]!.extensions).toEqual({ code: 'LIMIT_EXCEEDED', max: 500 });
  });
});

describe('refused requests pass through the gateway with their reason', () => {
  let fed: Federation;
  beforeAll(async () => {
    fed = await startFederation([{ country: 'CN' }]);
  });
  afterAll(() => fed?.stop());

  it('reports a bad DateTime variable as BAD_USER_INPUT, not as an unavailable registry', async () => {
    const result = await fed.query(`query($from: DateTime) { registry(country: "CN") { units(filter: { registeredFrom: $from }) { totalCount } } }`, { from: '2026-11-25' });
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0]?.message).toMatch(/DateTime/);
  });
});
