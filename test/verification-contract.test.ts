import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatementEvent } from '../lib/database/database.js';
import { startFakeRegistry } from './support/fake-registry.js';
import { startFederation, type Caller, type Federation } from './support/federation.js';
import { nodeQuery, seedNode } from './support/seed-node.js';

/**
 * The contract additions customs asked for (issue 11, item 4): what was sent and its canonical code on
 * every verification, which registry answered, reasons that name what they are about, recall(code),
 * status histories and paginated provenance; with their rights, and batched.
 */
const ANALYST: Caller = { subject: 'test-analyst', role: 'analyst' };
const CUSTOMS: Caller = { subject: 'test-customs', role: 'customs', country: 'DE' };

describe('verification contract additions', () => {
  let fed: Federation;
  let fake: Awaited<ReturnType<typeof startFakeRegistry>>;
  let cn: string[];
  let de: string[];
  const model = 'CNVC01AAAAAA';
  const serial = (n: number) => String(n).padStart(17, '0');
  const down = `FL${'X'.repeat(10)}${serial(1)}`;

  const ok = async (query: string, variables?: Record<string, unknown>, as?: Caller) => {
    const result = await fed.query(query, variables, as);
    expect(result.errors, query).toBeUndefined();
    return result.data;
  };

  beforeAll(async () => {
    fed = await startFederation([{ country: 'CN', name: 'China registry' }, { country: 'DE', name: 'German registry' }], { checkConformance: false });
    cn = await seedNode(fed.nodes[0]!, 'CNVC01', model, 5);
    de = await seedNode(fed.nodes[1]!, 'DEVC01', 'DEVC01BBBBBB', 2);
    fake = await startFakeRegistry('http-500');
    const applied = await fed.gateway.store.apply({
      registries: [...fed.directoryInput.registries, { name: 'Failing registry', countries: ['FL'], subgraphs: fake.subgraphs }],
    });
    expect(applied.applied).toBe(true);
    // R0001 on the whole model (remedied on unit 0), R0002 on units 1-2, R0003 closed.
    await ok(`mutation { openRecall(input: { model: "${model}", defect: "D1", remedy: "R1" }) { code } }`);
    await ok(`mutation { openRecall(input: { model: "${model}", serialFrom: "${cn[1]!.slice(12)}", serialTo: "${cn[2]!.slice(12)}", defect: "D2", remedy: "R2" }) { code } }`);
    await ok(`mutation { openRecall(input: { model: "${model}", defect: "D3", remedy: "R3" }) { code } }`);
    await ok(`mutation { closeRecall(code: "${model}R0003") { code } }`);
    await ok(`mutation($e: [LifecycleEventInput!]!) { recordEvents(events: $e) { eventId } }`, {
      e: [{ eventId: 'vc-remedy-0', unit: cn[0], type: 'RECALL_REMEDIED', occurredAt: new Date().toISOString(), recall: `${model}R0001` }],
    });
  });
  afterAll(async () => {
    await fed?.stop();
    await fake?.stop();
  });

  const VERIFY = `query($c: [String!]!) { verifyMany(codes: $c) {
    code input canonical verdict answeredBy { country name }
    reasons { code recalls registry { country name } enterprise model country } } }`;

  it('echoes the input and gives the canonical code (null when malformed) for messy, malformed and foreign codes', async () => {
    const messy = ` ${cn[1]!.slice(0, 2).toLowerCase()}-${cn[1]!.slice(2, 6)} ${cn[1]!.slice(6)} `;
    const inputs = [messy, 'CN-BAD', `ZZ${cn[1]!.slice(2)}`, cn[1]!, de[0]!];
    const data = await ok(VERIFY, { c: inputs }, null);
    expect(data.verifyMany.map((v: any) => [v.input, v.code, v.canonical])).toEqual([
      [messy, cn[1], cn[1]],
      ['CN-BAD', 'CN-BAD', null],
      [`ZZ${cn[1]!.slice(2)}`, `ZZ${cn[1]!.slice(2)}`, `ZZ${cn[1]!.slice(2)}`],
      [cn[1], cn[1], cn[1]],
      [de[0], de[0], de[0]],
    ]);
  });

  it('says which registry answered: home, partner, none for unknown or malformed, the one asked when it could not answer', async () => {
    const data = await ok(VERIFY, { c: [cn[0], de[0], `ZZ${cn[1]!.slice(2)}`, 'CN-BAD', down] }, null);
    expect(data.verifyMany.map((v: any) => [v.verdict, v.answeredBy])).toEqual([
      ['ADMIT', { country: 'CN', name: 'China registry' }],
      ['ADMIT', { country: 'DE', name: 'German registry' }],
      ['UNKNOWN', null],
      ['REFUSE', null],
      ['UNKNOWN', { country: 'FL', name: 'Failing registry' }],
    ]);
    expect(data.verifyMany[2].reasons).toEqual([{ code: 'UNKNOWN_COUNTRY', recalls: null, registry: null, enterprise: null, model: null, country: 'ZZ' }]);
    expect(data.verifyMany[4].reasons).toEqual([
      { code: 'REGISTRY_UNAVAILABLE', recalls: null, registry: { country: 'FL', name: 'Failing registry' }, enterprise: null, model: null, country: null },
    ]);
  });

  it('names the open recalls not yet remedied, the registry that does not know a code, the suspended maker and the withdrawn model', async () => {
    const unknown = `${model}${'9'.repeat(17)}`;
    const before = await ok(VERIFY, { c: [cn[0], cn[1], cn[4], unknown] }, null);
    const reasonsOf = (i: number) => before.verifyMany[i].reasons;
    // Unit 0 remedied R0001 and is outside R0002's range; unit 1 is under both; unit 4 under R0001 only.
    expect(reasonsOf(0)).toEqual([]);
    expect(reasonsOf(1)).toEqual([{ code: 'OPEN_RECALL', recalls: [`${model}R0001`, `${model}R0002`], registry: null, enterprise: null, model: null, country: null }]);
    expect(reasonsOf(2)).toEqual([{ code: 'OPEN_RECALL', recalls: [`${model}R0001`], registry: null, enterprise: null, model: null, country: null }]);
    expect(reasonsOf(3)).toEqual([{ code: 'NOT_REGISTERED', recalls: null, registry: { country: 'CN', name: 'China registry' }, enterprise: null, model: null, country: null }]);

    await ok(`mutation { setEnterpriseStatus(code: "CNVC01", status: SUSPENDED, reason: "Inspection") { code } }`);
    await ok(`mutation { setProductModelStatus(code: "${model}", status: WITHDRAWN, reason: "Certificate withdrawn") { code } }`);
    const after = await ok(VERIFY, { c: [cn[0]] }, null);
    expect(after.verifyMany[0].reasons).toEqual([
      { code: 'ENTERPRISE_SUSPENDED', recalls: null, registry: null, enterprise: 'CNVC01', model: null, country: null },
      { code: 'MODEL_WITHDRAWN', recalls: null, registry: null, enterprise: null, model, country: null },
    ]);
    await ok(`mutation { setEnterpriseStatus(code: "CNVC01", status: ACTIVE, reason: "Inspection passed") { code } }`);
    await ok(`mutation { setProductModelStatus(code: "${model}", status: ACTIVE, reason: "Certificate renewed") { code } }`);
  });

  it('looks up a recall campaign by its code, at home and at a partner, anonymously', async () => {
    const query = `query($c: ID!) { recall(code: $c) { code status openedAt closedAt defect model { code name } } }`;
    const open = await ok(query, { c: `${model.toLowerCase()}-r0001` }, null);
    expect(open.recall).toMatchObject({ code: `${model}R0001`, status: 'OPEN', closedAt: null, defect: 'D1', model: { code: model, name: `Model ${model}` } });
    const closed = await ok(query, { c: `${model}R0003` }, null);
    expect(closed.recall).toMatchObject({ code: `${model}R0003`, status: 'CLOSED', defect: 'D3' });
    expect(closed.recall.closedAt).toEqual(expect.any(String));
    expect((await ok(query, { c: `${model}R0099` }, null)).recall).toBeNull();

    const malformed = await fed.query(query, { c: 'CN-R1' }, null);
    expect(malformed.data?.recall).toBeNull();
    expect(malformed.errors?.[0]?.extensions?.code).toBe('MALFORMED_CODE');
    const unserved = await fed.query(query, { c: 'ZZVC01AAAAAAR0001' }, null);
    expect(unserved.errors?.[0]?.extensions).toMatchObject({ code: 'UNKNOWN_COUNTRY', country: 'ZZ' });
  });

  it('routes recall(code) to the partner that owns the country', async () => {
    // The partner node writes its own campaigns (the gateway writes home only).
    await nodeQuery(fed.nodes[1]!, 'product-models', `mutation { openRecall(input: { model: "DEVC01BBBBBB", defect: "Arm", remedy: "Replace" }) { code } }`);
    const data = await ok(`{ recall(code: "DEVC01BBBBBBR0001") { code status defect model { name } } }`, undefined, null);
    expect(data.recall).toEqual({ code: 'DEVC01BBBBBBR0001', status: 'OPEN', defect: 'Arm', model: { name: 'Model DEVC01BBBBBB' } });
  });
});
