import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFederation, type Federation } from './support/federation.js';
import { nodeQuery, seedNode as seed } from './support/seed-node.js';

const seedNode = (fed: Federation, index: number, enterprise: string, model: string, count: number) => seed(fed.nodes[index]!, enterprise, model, count);

describe('two registries behind one gateway', () => {
  let fed: Federation;
  let cn: string[];
  let de: string[];
  beforeAll(async () => {
    fed = await startFederation([{ country: 'CN', name: 'China registry' }, { country: 'DE', name: 'German registry' }]);
    cn = await seedNode(fed, 0, 'CNAAAA', 'CNAAAA000001', 3);
    de = await seedNode(fed, 1, 'DEBBBB', 'DEBBBB000001', 3);
  });
  afterAll(() => fed?.stop());

  it('answers one request mixing both countries, each unit from its own registry, in input order', async () => {
    const codes = [cn[0], de[0], cn[1], 'DEBBBB000001' + '9'.repeat(17), de[2], 'FRXXXX000001' + '1'.padStart(17, '0'), cn[2]];
    const result = await fed.query(`query($codes: [ID!]!) { units(codes: $codes) { code model { name } enterprise { name } state } }`, { codes });
    expect(result.data.units).toEqual([
      { code: cn[0], model: { name: 'Model CNAAAA000001' }, enterprise: { name: 'Maker CNAAAA' }, state: 'REGISTERED' },
      { code: de[0], model: { name: 'Model DEBBBB000001' }, enterprise: { name: 'Maker DEBBBB' }, state: 'REGISTERED' },
      { code: cn[1], model: { name: 'Model CNAAAA000001' }, enterprise: { name: 'Maker CNAAAA' }, state: 'REGISTERED' },
      null,
      { code: de[2], model: { name: 'Model DEBBBB000001' }, enterprise: { name: 'Maker DEBBBB' }, state: 'REGISTERED' },
      null,
      { code: cn[2], model: { name: 'Model CNAAAA000001' }, enterprise: { name: 'Maker CNAAAA' }, state: 'REGISTERED' },
    ]);
    expect(result.errors).toEqual([expect.objectContaining({ path: ['units', 5], extensions: { code: 'UNKNOWN_COUNTRY', country: 'FR' } })]);
  });

  it('keeps each registry to its own data: a DE code is not found in the CN database', async () => {
    const cnNode = await nodeQuery(fed.nodes[0]!, 'units', `query($c: ID!) { unit(code: $c) { code } }`, { c: de[0] });
    expect(cnNode.unit).toBeNull();
  });

  it('splits a mixed entity batch by country (registries with their own enterprises)', async () => {
    const result = await fed.query(`{ registries { country name home enterprises { totalCount edges { node { code name } } } unitCount } }`);
    expect(result.errors).toBeUndefined();
    expect(result.data.registries).toEqual([
      { country: 'CN', name: 'China registry', home: true, enterprises: { totalCount: 1, edges: [{ node: { code: 'CNAAAA', name: 'Maker CNAAAA' } }] }, unitCount: 3 },
      { country: 'DE', name: 'German registry', home: false, enterprises: { totalCount: 1, edges: [{ node: { code: 'DEBBBB', name: 'Maker DEBBBB' } }] }, unitCount: 3 },
    ]);
  });

  it('routes single-code root fields and parses codes against the directory', async () => {
    const result = await fed.query(`{
      a: enterprise(code: "DE-BBBB") { name }
      b: productModel(code: "CNAAAA000001") { name unitCount }
      c: parseCode(code: "fr-xxxx-000001-00000000000000001") { valid canonical problems { kind message } }
      d: parseCode(code: "de bbbb 000001 00000000000000001") { valid display country enterprise model serial enterpriseCode modelCode checkCharacter }
      e: registry(country: "FR") { name }
    }`);
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({
      a: { name: 'Maker DEBBBB' },
      b: { name: 'Model CNAAAA000001', unitCount: 3 },
      c: { valid: false, canonical: null, problems: [{ kind: 'UNKNOWN_COUNTRY', message: 'no registry serves country segment "FR"' }] },
      d: { valid: true, display: 'DE-BBBB-000001-00000000000000001', country: 'DE', enterprise: 'BBBB', model: '000001', serial: '00000000000000001', enterpriseCode: 'DEBBBB', modelCode: 'DEBBBB000001', checkCharacter: 'NOT_DEFINED' },
      e: null,
    });
  });

  it('writes only to the home registry', async () => {
    const result = await fed.query(`mutation { registerEnterprise(input: { code: "DECCCC", name: "Not ours" }) { code } }`);
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'FOREIGN_COUNTRY', country: 'DE' });
    const check = await fed.query(`{ enterprise(code: "DECCCC") { code } }`);
    expect(check.data.enterprise).toBeNull();
  });

  it('answers the other country when one registry is down, with REGISTRY_UNAVAILABLE per affected item', async () => {
    await fed.nodes[1]!.stop();
    const result = await fed.query(`query($codes: [ID!]!) { units(codes: $codes) { code state } }`, { codes: [cn[0], de[0], cn[1], de[1]] });
    expect(result.data.units).toEqual([{ code: cn[0], state: 'REGISTERED' }, null, { code: cn[1], state: 'REGISTERED' }, null]);
    expect(result.errors).toHaveLength(2);
    for (const [i, error] of result.errors!.entries()) {
      expect(error).toMatchObject({ path: ['units', [1, 3][i]], extensions: { code: 'REGISTRY_UNAVAILABLE', country: 'DE' } });
      // Nothing internal leaks: no URL, no port, no stack.
      expect(JSON.stringify(error)).not.toMatch(/127\.0\.0\.1|localhost|stack|ECONNREFUSED/);
    }
  });
});
