import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFederation, type Federation } from './support/federation.js';
import { signedFetch } from './support/signing.js';

/**
 * Recall campaigns through the gateway: the authority opens a campaign on a model (whole or a serial
 * range), units see the campaigns covering them, and closing a campaign is final.
 */
describe('recall campaigns', () => {
  const MODEL = 'CNRC01HX0001';
  const OTHER_MODEL = 'CNRC01HX0002';
  const serial = (n: number) => String(n).padStart(17, '0');
  const unit = (n: number, model = MODEL) => model + serial(n);
  let fed: Federation;

  beforeAll(async () => {
    fed = await startFederation([{ country: 'CN' }]);
    const setup = await fed.query(`mutation {
      registerEnterprise(input: { code: "CNRC01", name: "Recall Robotics" }) { code }
    }`);
    expect(setup.errors).toBeUndefined();
    for (const code of [MODEL, OTHER_MODEL]) {
      const model = await fed.query(`mutation($c: ID!) { registerProductModel(input: { code: $c, name: "HX", category: "humanoid" }) { code } }`, { c: code });
      expect(model.errors).toBeUndefined();
    }
    const units = await fed.query(`mutation { registerUnits(input: { model: "${MODEL}", count: 30 }) { code } }`);
    expect(units.errors).toBeUndefined();
  });
  afterAll(() => fed?.stop());

  const OPEN = `mutation($input: OpenRecallInput!) { openRecall(input: $input) {
    code serialFrom serialTo defect remedy openedAt closedAt model { code name status }
  } }`;
  const UNIT_RECALLS = `query($c: ID!) { unit(code: $c) { code recalls { code serialFrom serialTo closedAt } } }`;

  it('numbers campaigns per model, normalises the input, and resolves the model', async () => {
    const whole = await fed.query(OPEN, { input: { model: 'cn-rc01-hx0001', defect: '  Battery may overheat  ', remedy: 'Replace the battery pack' } });
    expect(whole.errors).toBeUndefined();
    expect(whole.data.openRecall).toMatchObject({
      code: `${MODEL}R0001`,
      serialFrom: null,
      serialTo: null,
      defect: 'Battery may overheat',
      remedy: 'Replace the battery pack',
      closedAt: null,
      model: { code: MODEL, name: 'HX', status: 'ACTIVE' },
    });
    expect(new Date(whole.data.openRecall.openedAt).getTime()).toBeGreaterThan(Date.now() - 60_000);

    const range = await fed.query(OPEN, { input: { model: MODEL, serialFrom: serial(10), serialTo: '0000-0000-0000-0002-0', defect: 'Loose actuator', remedy: 'Tighten' } });
    expect(range.errors).toBeUndefined();
    expect(range.data.openRecall).toMatchObject({ code: `${MODEL}R0002`, serialFrom: serial(10), serialTo: serial(20) });

    // Numbering is per model.
    const other = await fed.query(OPEN, { input: { model: OTHER_MODEL, defect: 'Firmware fault', remedy: 'Update' } });
    expect(other.data.openRecall.code).toBe(`${OTHER_MODEL}R0001`);
  });

  it('lists a unit\'s campaigns oldest first, only those whose range covers its serial', async () => {
    const inRange = await Promise.all([10, 15, 20].map((n) => fed.query(UNIT_RECALLS, { c: unit(n) })));
    for (const result of inRange) {
      expect(result.errors).toBeUndefined();
      expect(result.data.unit.recalls.map((r: { code: string }) => r.code)).toEqual([`${MODEL}R0001`, `${MODEL}R0002`]);
    }
    for (const n of [9, 21]) {
      const result = await fed.query(UNIT_RECALLS, { c: unit(n) });
      expect(result.data.unit.recalls).toEqual([{ code: `${MODEL}R0001`, serialFrom: null, serialTo: null, closedAt: null }]);
    }
    // Serials compare as strings: letters sort after digits, position by position.
    const lettered = await fed.query(`mutation { registerUnits(input: { model: "${MODEL}", serials: ["0000000000000001A", "0000000000000002A"] }) { code recalls { code } } }`);
    expect(lettered.errors).toBeUndefined();
    expect(lettered.data.registerUnits.map((u: { recalls: { code: string }[] }) => u.recalls.map((r) => r.code))).toEqual([
      [`${MODEL}R0001`, `${MODEL}R0002`],
      [`${MODEL}R0001`],
    ]);
  });

  it('lists a model\'s campaigns newest first', async () => {
    const result = await fed.query(`{ productModel(code: "${MODEL}") { recalls { code } } other: productModel(code: "${OTHER_MODEL}") { recalls { code model { code } } } }`);
    expect(result.errors).toBeUndefined();
    expect(result.data.productModel.recalls).toEqual([{ code: `${MODEL}R0002` }, { code: `${MODEL}R0001` }]);
    expect(result.data.other.recalls).toEqual([{ code: `${OTHER_MODEL}R0001`, model: { code: OTHER_MODEL } }]);
  });

  it('closes a campaign once: it stays in the unit\'s history with its closing time', async () => {
    const closed = await fed.query(`mutation { closeRecall(code: "${MODEL.toLowerCase()}-r0002") { code closedAt openedAt } }`);
    expect(closed.errors).toBeUndefined();
    expect(closed.data.closeRecall.code).toBe(`${MODEL}R0002`);
    expect(new Date(closed.data.closeRecall.closedAt).getTime()).toBeGreaterThanOrEqual(new Date(closed.data.closeRecall.openedAt).getTime());

    const again = await fed.query(`mutation { closeRecall(code: "${MODEL}R0002") { code } }`);
    expect(again.errors![0]!.extensions).toMatchObject({ code: 'RECALL_CLOSED', input: `${MODEL}R0002` });
    expect(again.errors![0]!.message).toContain(`already closed at ${closed.data.closeRecall.closedAt}`);

    const history = await fed.query(UNIT_RECALLS, { c: unit(12) });
    expect(history.data.unit.recalls).toEqual([
      { code: `${MODEL}R0001`, serialFrom: null, serialTo: null, closedAt: null },
      { code: `${MODEL}R0002`, serialFrom: serial(10), serialTo: serial(20), closedAt: closed.data.closeRecall.closedAt },
    ]);
  });

  it('refuses unknown and foreign models, bad ranges and texts, and writes nothing', async () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ model: 'CNRC01ZZZZZZ' }, 'UNKNOWN_MODEL', /CNRC01ZZZZZZ is not registered/],
      [{ model: 'DERC01HX0001' }, 'FOREIGN_COUNTRY', /country DE/],
      [{ model: 'CNRC01HX00' }, 'MALFORMED_CODE', /expected 12 characters, got 10/],
      [{ serialFrom: serial(5) }, 'BAD_USER_INPUT', /both serialFrom and serialTo/],
      [{ serialTo: serial(5) }, 'BAD_USER_INPUT', /both serialFrom and serialTo/],
      [{ serialFrom: serial(6), serialTo: serial(5) }, 'BAD_USER_INPUT', /is after serialTo/],
      [{ serialFrom: 'abc', serialTo: serial(5) }, 'BAD_USER_INPUT', /serialFrom "abc" is not 17 characters/],
      [{ serialFrom: serial(1), serialTo: '0000000000000000!' }, 'BAD_USER_INPUT', /serialTo/],
      [{ defect: '   ' }, 'BAD_USER_INPUT', /defect must be 1 to 1000/],
      [{ remedy: 'x'.repeat(1001) }, 'BAD_USER_INPUT', /remedy must be 1 to 1000/],
    ];
    for (const [override, code, message] of cases) {
      const result = await fed.query(OPEN, { input: { model: MODEL, defect: 'D', remedy: 'R', ...override } });
      expect(result.errors?.[0]?.extensions?.code, JSON.stringify(override)).toBe(code);
      expect(result.errors![0]!.message).toMatch(message);
    }
    const recalls = await fed.query(`{ productModel(code: "${MODEL}") { recalls { code } } }`);
    expect(recalls.data.productModel.recalls).toHaveLength(2);
    // The longest texts allowed are accepted.
    const longest = await fed.query(OPEN, { input: { model: OTHER_MODEL, defect: 'd'.repeat(1000), remedy: 'r'.repeat(1000) } });
    expect(longest.errors).toBeUndefined();
    expect(longest.data.openRecall.code).toBe(`${OTHER_MODEL}R0002`);
  });

  it('refuses closing an unknown, foreign or malformed campaign code', async () => {
    const unknown = await fed.query(`mutation { closeRecall(code: "${MODEL}R0099") { code } }`);
    expect(unknown.errors![0]!.extensions).toMatchObject({ code: 'UNKNOWN_RECALL', input: `${MODEL}R0099` });
    const malformed = await fed.query(`mutation { closeRecall(code: "${MODEL}X0001") { code } }`);
    expect(malformed.errors![0]!.extensions!.code).toBe('MALFORMED_CODE');
    const foreign = await fed.query(`mutation { closeRecall(code: "DERC01HX0001R0001") { code } }`);
    expect(foreign.errors![0]!.extensions!.code).toBe('FOREIGN_COUNTRY');
  });

  it('gives concurrent campaigns on one model distinct numbers', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => fed.query(OPEN, { input: { model: OTHER_MODEL, defect: `Defect ${i}`, remedy: 'Fix' } })),
    );
    for (const result of results) expect(result.errors).toBeUndefined();
    const codes = results.map((r) => r.data.openRecall.code as string).sort();
    expect(codes).toEqual(Array.from({ length: 8 }, (_, i) => `${OTHER_MODEL}R${String(i + 3).padStart(4, '0')}`));
  });

  it('resolves campaign references and batches of unit references in one statement', async () => {
    const url = fed.nodes[0]!.urls['product-models']!;
    const post = async (query: string, variables: Record<string, unknown>) => {
      const response = await signedFetch(url, 'product-models', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
      return (await response.json()) as { data?: any; errors?: unknown[] };
    };
    const campaigns = await post(`query($r: [_Any!]!) { _entities(representations: $r) { ... on RecallCampaign { code defect model { code } } } }`, {
      r: [`${MODEL}R0001`, `${MODEL}R0099`, `DERC01HX0001R0001`, `${MODEL.toLowerCase()}R0001`, 42, `${MODEL}R001`].map((code) => ({ __typename: 'RecallCampaign', code })),
    });
    expect(campaigns.errors).toBeUndefined();
    expect(campaigns.data._entities).toEqual([{ code: `${MODEL}R0001`, defect: 'Battery may overheat', model: { code: MODEL } }, null, null, null, null, null]);

    const codes = Array.from({ length: 1000 }, (_, i) => unit(i + 1));
    const statements: string[] = [];
    await fed.gateway.flushAudit(); // earlier writes' audit entries are not this request's statements
    const unsubscribe = fed.databases[0]!.onStatement((event) => statements.push(event.schema));
    const units = await post(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Unit { code recalls { code closedAt } } } }`, {
      r: codes.map((code) => ({ __typename: 'Unit', code })),
    });
    unsubscribe();
    expect(units.errors).toBeUndefined();
    expect(units.data._entities).toHaveLength(1000);
    expect(units.data._entities[14].recalls.map((r: { code: string }) => r.code)).toEqual([`${MODEL}R0001`, `${MODEL}R0002`]);
    expect(units.data._entities[999].recalls.map((r: { code: string }) => r.code)).toEqual([`${MODEL}R0001`]);
    expect(statements).toEqual(['product_models']);
  });
});
