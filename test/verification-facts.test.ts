import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataSubgraphName } from '../lib/schema/contract.js';
import { startFederation, type Federation } from './support/federation.js';
import { signedFetch } from './support/signing.js';

/**
 * The facts each data subgraph contributes to a customs verdict (the `Verification` entity, keyed by a
 * unit code), asked of each subgraph directly as the gateway would: correct per code, null for codes
 * that are not this registry's, and one SQL statement per subgraph for a batch of 1,000.
 */
describe('verification facts', () => {
  const ACTIVE_MODEL = 'CNVF01AAAAAA';
  const WITHDRAWN_MODEL = 'CNVF01WWWWWW';
  const SUSPENDED_MODEL = 'CNVF02BBBBBB';
  const serial = (n: number) => String(n).padStart(17, '0');
  let fed: Federation;
  let registered: string[];
  const registeredAt = new Map<string, string>();

  beforeAll(async () => {
    fed = await startFederation([{ country: 'CN' }]);
    const mutate = async (query: string, variables?: Record<string, unknown>) => {
      const result = await fed.query(query, variables);
      expect(result.errors, query).toBeUndefined();
      return result.data;
    };
    await mutate(`mutation {
      a: registerEnterprise(input: { code: "CNVF01", name: "Verify One" }) { code }
      b: registerEnterprise(input: { code: "CNVF02", name: "Verify Two" }) { code }
    }`);
    for (const code of [ACTIVE_MODEL, WITHDRAWN_MODEL, SUSPENDED_MODEL]) {
      await mutate(`mutation { registerProductModel(input: { code: "${code}", name: "M", category: "humanoid" }) { code } }`);
    }
    registered = [];
    for (const [model, count] of [[ACTIVE_MODEL, 600], [WITHDRAWN_MODEL, 300], [SUSPENDED_MODEL, 100]] as const) {
      const data = await mutate(`mutation { registerUnits(input: { model: "${model}", count: ${count} }) { code registeredAt } }`);
      for (const unit of data.registerUnits) {
        registered.push(unit.code);
        registeredAt.set(unit.code, unit.registeredAt);
      }
    }
    // R0001 open on serials 1-100, R0002 on the whole model but closed, R0003 open on 50-60.
    await mutate(`mutation { openRecall(input: { model: "${ACTIVE_MODEL}", serialFrom: "${serial(1)}", serialTo: "${serial(100)}", defect: "D1", remedy: "R1" }) { code } }`);
    await mutate(`mutation { openRecall(input: { model: "${ACTIVE_MODEL}", defect: "D2", remedy: "R2" }) { code } }`);
    await mutate(`mutation { closeRecall(code: "${ACTIVE_MODEL}R0002") { code } }`);
    await mutate(`mutation { openRecall(input: { model: "${ACTIVE_MODEL}", serialFrom: "${serial(50)}", serialTo: "${serial(60)}", defect: "D3", remedy: "R3" }) { code } }`);
    await mutate(`mutation { setProductModelStatus(code: "${WITHDRAWN_MODEL}", status: WITHDRAWN, reason: "Certificate withdrawn") { code } }`);
    await mutate(`mutation { setEnterpriseStatus(code: "CNVF02", status: SUSPENDED, reason: "Inspection pending") { code } }`);
  });
  afterAll(() => fed?.stop());

  const FIELDS: Record<'enterprises' | 'product-models' | 'units', string> = {
    enterprises: 'code enterpriseStatus',
    'product-models': 'code modelStatus openRecallCampaigns',
    units: 'code registration { registered registeredAt }',
  };

  async function facts(subgraph: keyof typeof FIELDS, codes: unknown[]): Promise<any[]> {
    const response = await signedFetch(fed.nodes[0]!.urls[subgraph as DataSubgraphName]!, subgraph as DataSubgraphName, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: `query($r: [_Any!]!) { _entities(representations: $r) { ... on Verification { ${FIELDS[subgraph]} } } }`,
        variables: { r: codes.map((code) => ({ __typename: 'Verification', code })) },
      }),
    });
    const body = (await response.json()) as { data?: { _entities: any[] }; errors?: unknown };
    expect(body.errors).toBeUndefined();
    return body.data!._entities;
  }

  it('answers the facts of each subgraph for registered, unregistered and unknown codes', async () => {
    const underTwoRecalls = ACTIVE_MODEL + serial(55);
    const underOneRecall = ACTIVE_MODEL + serial(99);
    const clear = ACTIVE_MODEL + serial(200);
    // Never issued (issued serials are digits); between serials 1 and 100 as strings, after 60.
    const unregisteredInRange = ACTIVE_MODEL + '000000000000000Z5';
    const withdrawn = WITHDRAWN_MODEL + serial(1);
    const suspended = SUSPENDED_MODEL + serial(1);
    const unknownModel = 'CNVF01ZZZZZZ' + serial(1);
    const unknownEnterprise = 'CNZZ99ZZZZZZ' + serial(1);
    const codes = [underTwoRecalls, underOneRecall, clear, unregisteredInRange, withdrawn, suspended, unknownModel, unknownEnterprise];

    expect(await facts('units', codes)).toEqual([
      ...[underTwoRecalls, underOneRecall, clear].map((code) => ({ code, registration: { registered: true, registeredAt: registeredAt.get(code) } })),
      { code: unregisteredInRange, registration: { registered: false, registeredAt: null } },
      ...[withdrawn, suspended].map((code) => ({ code, registration: { registered: true, registeredAt: registeredAt.get(code) } })),
      { code: unknownModel, registration: { registered: false, registeredAt: null } },
      { code: unknownEnterprise, registration: { registered: false, registeredAt: null } },
    ]);

    expect((await facts('enterprises', codes)).map((f) => [f.code, f.enterpriseStatus])).toEqual([
      [underTwoRecalls, 'ACTIVE'],
      [underOneRecall, 'ACTIVE'],
      [clear, 'ACTIVE'],
      [unregisteredInRange, 'ACTIVE'],
      [withdrawn, 'ACTIVE'],
      [suspended, 'SUSPENDED'],
      [unknownModel, 'ACTIVE'],
      [unknownEnterprise, null],
    ]);

    // Recalls cover serials whether or not the unit is registered; closed campaigns are not listed.
    expect((await facts('product-models', codes)).map((f) => [f.code, f.modelStatus, f.openRecallCampaigns])).toEqual([
      [underTwoRecalls, 'ACTIVE', [`${ACTIVE_MODEL}R0001`, `${ACTIVE_MODEL}R0003`]],
      [underOneRecall, 'ACTIVE', [`${ACTIVE_MODEL}R0001`]],
      [clear, 'ACTIVE', []],
      [unregisteredInRange, 'ACTIVE', [`${ACTIVE_MODEL}R0001`]],
      [withdrawn, 'WITHDRAWN', []],
      [suspended, 'ACTIVE', []],
      [unknownModel, null, []],
      [unknownEnterprise, null, []],
    ]);
  });

  it('has no entity for foreign, malformed, non-canonical or non-string keys', async () => {
    const notOurs = ['DEVF01AAAAAA' + serial(1), 'CNVF01AAAAAA', (ACTIVE_MODEL + serial(1)).toLowerCase(), 'CN-VF01-AAAAAA-' + serial(1), 42, null, 'CNVF01AAAAAA' + serial(1).slice(1) + '!'];
    for (const subgraph of ['enterprises', 'product-models', 'units'] as const) {
      expect(await facts(subgraph, [...notOurs, ACTIVE_MODEL + serial(1)]), subgraph).toEqual([...notOurs.map(() => null), expect.objectContaining({ code: ACTIVE_MODEL + serial(1) })]);
    }
  });

  it('costs one statement per subgraph for a batch of 1,000 codes, answered in order', async () => {
    // 1,000 codes: 997 registered units (in a shuffled order) and 3 that are not registered.
    const codes = [...registered.slice(0, 997)].reverse();
    codes.splice(10, 0, 'CNVF01ZZZZZZ' + serial(1));
    codes.splice(500, 0, ACTIVE_MODEL + serial(999_999));
    codes.push('CNZZ99ZZZZZZ' + serial(1));
    expect(codes).toHaveLength(1000);

    for (const subgraph of ['enterprises', 'product-models', 'units'] as const) {
      const statements: string[] = [];
      await fed.gateway.flushAudit(); // earlier writes' audit entries are not this request's statements
      const unsubscribe = fed.databases[0]!.onStatement((event) => statements.push(event.schema));
      const answered = await facts(subgraph, codes);
      unsubscribe();
      expect(answered.map((f) => f.code), subgraph).toEqual(codes);
      expect(statements, subgraph).toEqual([subgraph.replace('-', '_')]);
    }
  });

  it('shares one statement with Unit references in the same units batch', async () => {
    const statements: string[] = [];
    await fed.gateway.flushAudit(); // earlier writes' audit entries are not this request's statements
    const unsubscribe = fed.databases[0]!.onStatement((event) => statements.push(event.schema));
    const response = await signedFetch(fed.nodes[0]!.urls.units!, 'units', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: `query($r: [_Any!]!) { _entities(representations: $r) { ... on Verification { code registration { registered } } ... on Unit { unitCode: code serial } } }`,
        variables: { r: registered.slice(0, 500).flatMap((code) => [{ __typename: 'Verification', code }, { __typename: 'Unit', code }]) },
      }),
    });
    unsubscribe();
    const body = (await response.json()) as { data: { _entities: any[] } };
    expect(body.data._entities).toHaveLength(1000);
    expect(body.data._entities[1]).toEqual({ unitCode: registered[0], serial: serial(1) });
    expect(body.data._entities[0]).toEqual({ code: registered[0], registration: { registered: true } });
    expect(statements).toEqual(['units']);
  });
});
