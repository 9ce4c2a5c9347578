import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listEnterpriseStatusChanges } from '../subgraphs/enterprises/enterprise-repository.js';
import type { EnterprisesDb } from '../subgraphs/enterprises/enterprise-table.js';
import { listProductModelStatusChanges } from '../subgraphs/product-models/product-model-repository.js';
import type { ProductModelsDb } from '../subgraphs/product-models/product-model-table.js';
import { startFederation, type Federation } from './support/federation.js';

/**
 * The authority's status decisions through the gateway: a suspended or revoked enterprise gets no new
 * models or units, a withdrawn model no new units; every decision is kept, with its reason, in an
 * append-only audit trail.
 */
describe('enterprise and product model statuses', () => {
  const ENTERPRISE = 'CNST01';
  const MODEL = 'CNST01AAAAAA';
  let fed: Federation;
  let enterprisesDb: Kysely<EnterprisesDb>;
  let modelsDb: Kysely<ProductModelsDb>;

  beforeAll(async () => {
    fed = await startFederation([{ country: 'CN' }]);
    enterprisesDb = fed.databases[0]!.forSchema<EnterprisesDb>('enterprises');
    modelsDb = fed.databases[0]!.forSchema<ProductModelsDb>('product_models');
    const setup = await fed.query(`mutation {
      e: registerEnterprise(input: { code: "${ENTERPRISE}", name: "Status Robotics" }) { code }
      o: registerEnterprise(input: { code: "CNST02", name: "Other Robotics" }) { code }
    }`);
    expect(setup.errors).toBeUndefined();
    const model = await fed.query(`mutation { registerProductModel(input: { code: "${MODEL}", name: "A", category: "humanoid" }) { code } }`);
    expect(model.errors).toBeUndefined();
  });
  afterAll(async () => {
    await enterprisesDb?.destroy();
    await modelsDb?.destroy();
    await fed?.stop();
  });

  const SET_ENTERPRISE = `mutation($c: ID!, $s: EnterpriseStatus!, $r: String!) { setEnterpriseStatus(code: $c, status: $s, reason: $r) { code status name } }`;
  const SET_MODEL = `mutation($c: ID!, $s: ProductModelStatus!, $r: String!) { setProductModelStatus(code: $c, status: $s, reason: $r) { code status enterprise { code status } } }`;
  const registerModel = (code: string) => fed.query(`mutation { registerProductModel(input: { code: "${code}", name: "M", category: "humanoid" }) { code } }`);
  const registerUnits = (model: string) => fed.query(`mutation { registerUnits(input: { model: "${model}", count: 2 }) { code } }`);

  for (const status of ['SUSPENDED', 'REVOKED'] as const) {
    it(`refuses new models and units of a ${status} enterprise, and accepts them again once ACTIVE`, async () => {
      const unitCount = async () => (await fed.query(`{ productModel(code: "${MODEL}") { unitCount } }`)).data.productModel.unitCount as number;
      const unitsBefore = await unitCount();
      const set = await fed.query(SET_ENTERPRISE, { c: 'cn-st01', s: status, r: ` Audit finding ${status} ` });
      expect(set.errors).toBeUndefined();
      expect(set.data.setEnterpriseStatus).toEqual({ code: ENTERPRISE, status, name: 'Status Robotics' });

      const model = await registerModel(`${ENTERPRISE}B${status.slice(0, 5)}`);
      expect(model.errors![0]!.extensions).toMatchObject({ code: 'ENTERPRISE_NOT_ACTIVE', status });
      const units = await registerUnits(MODEL);
      expect(units.errors![0]!.extensions).toMatchObject({ code: 'ENTERPRISE_NOT_ACTIVE', status });
      const read = await fed.query(`{ enterprise(code: "${ENTERPRISE}") { status } }`);
      expect(read.data).toEqual({ enterprise: { status } });
      expect(await unitCount()).toBe(unitsBefore);

      const reinstated = await fed.query(SET_ENTERPRISE, { c: ENTERPRISE, s: 'ACTIVE', r: 'Finding resolved' });
      expect(reinstated.data.setEnterpriseStatus.status).toBe('ACTIVE');
      expect((await registerUnits(MODEL)).errors).toBeUndefined();
      expect(await unitCount()).toBe(unitsBefore + 2);
    });
  }

  it('refuses new units of a withdrawn model and accepts them again once reinstated', async () => {
    const withdrawn = await fed.query(SET_MODEL, { c: 'CN-ST01-AAAAAA', s: 'WITHDRAWN', r: 'Safety certificate expired' });
    expect(withdrawn.errors).toBeUndefined();
    expect(withdrawn.data.setProductModelStatus).toEqual({ code: MODEL, status: 'WITHDRAWN', enterprise: { code: ENTERPRISE, status: 'ACTIVE' } });
    const units = await registerUnits(MODEL);
    expect(units.errors![0]!.extensions).toMatchObject({ code: 'MODEL_NOT_ACTIVE', status: 'WITHDRAWN' });
    const before = await fed.query(`{ productModel(code: "${MODEL}") { status unitCount } }`);
    expect(before.data.productModel).toEqual({ status: 'WITHDRAWN', unitCount: 4 });

    const reinstated = await fed.query(SET_MODEL, { c: MODEL, s: 'ACTIVE', r: 'Certificate renewed' });
    expect(reinstated.data.setProductModelStatus.status).toBe('ACTIVE');
    expect((await registerUnits(MODEL)).errors).toBeUndefined();
  });

  it('keeps every decision with its reason, previous status and request in an append-only trail', async () => {
    const enterprise = await listEnterpriseStatusChanges(enterprisesDb, ENTERPRISE);
    expect(enterprise.map((c) => [c.previous_status, c.status, c.reason])).toEqual([
      ['ACTIVE', 'SUSPENDED', 'Audit finding SUSPENDED'],
      ['SUSPENDED', 'ACTIVE', 'Finding resolved'],
      ['ACTIVE', 'REVOKED', 'Audit finding REVOKED'],
      ['REVOKED', 'ACTIVE', 'Finding resolved'],
    ]);
    for (const change of enterprise) {
      expect(change.request_id).toMatch(/.+/);
      // Who decided: the signed-in authority the test calls as.
      expect(change.changed_by).toBe('test-authority');
      expect(change.changed_at).toBeInstanceOf(Date);
    }
    const model = await listProductModelStatusChanges(modelsDb, MODEL);
    expect(model.map((c) => [c.previous_status, c.status, c.reason])).toEqual([
      ['ACTIVE', 'WITHDRAWN', 'Safety certificate expired'],
      ['WITHDRAWN', 'ACTIVE', 'Certificate renewed'],
    ]);

    // The database itself refuses to rewrite history, whoever connects.
    await expect(enterprisesDb.updateTable('enterprise_status_change').set({ reason: 'nothing happened' }).execute()).rejects.toThrow(/append-only/);
    await expect(modelsDb.deleteFrom('product_model_status_change').execute()).rejects.toThrow(/append-only/);
    await expect(sql`truncate ${sql.table('product_models.product_model_status_change')}`.execute(modelsDb)).rejects.toThrow(/append-only/);
  });

  it('refuses unknown, foreign and malformed codes and bad reasons, and writes nothing', async () => {
    const before = (await listEnterpriseStatusChanges(enterprisesDb, 'CNST02')).length;
    const enterpriseCases: [Record<string, unknown>, string, RegExp][] = [
      [{ c: 'CNZZ99' }, 'UNKNOWN_ENTERPRISE', /CNZZ99 is not registered/],
      [{ c: 'DEST02' }, 'FOREIGN_COUNTRY', /country DE/],
      [{ c: 'CNST0' }, 'MALFORMED_CODE', /expected 6 characters, got 5/],
      [{ r: '   ' }, 'BAD_USER_INPUT', /reason must be 1 to 500 characters/],
      [{ r: 'x'.repeat(501) }, 'BAD_USER_INPUT', /reason must be 1 to 500 characters, got 501/],
    ];
    for (const [override, code, message] of enterpriseCases) {
      const result = await fed.query(SET_ENTERPRISE, { c: 'CNST02', s: 'SUSPENDED', r: 'Reason', ...override });
      expect(result.errors?.[0]?.extensions?.code, JSON.stringify(override)).toBe(code);
      expect(result.errors![0]!.message).toMatch(message);
    }
    const invalidStatus = await fed.query(SET_ENTERPRISE, { c: 'CNST02', s: 'WITHDRAWN', r: 'Reason' });
    expect(invalidStatus.errors).toHaveLength(1);
    expect((await listEnterpriseStatusChanges(enterprisesDb, 'CNST02')).length).toBe(before);
    expect((await fed.query(`{ enterprise(code: "CNST02") { status } }`)).data.enterprise.status).toBe('ACTIVE');

    const modelCases: [Record<string, unknown>, string][] = [
      [{ c: 'CNST01ZZZZZZ' }, 'UNKNOWN_MODEL'],
      [{ c: 'DEST01AAAAAA' }, 'FOREIGN_COUNTRY'],
      [{ c: 'CNST01AAAAA!' }, 'MALFORMED_CODE'],
      [{ r: '' }, 'BAD_USER_INPUT'],
    ];
    for (const [override, code] of modelCases) {
      const result = await fed.query(SET_MODEL, { c: MODEL, s: 'WITHDRAWN', r: 'Reason', ...override });
      expect(result.errors?.[0]?.extensions?.code, JSON.stringify(override)).toBe(code);
    }
    expect((await fed.query(`{ productModel(code: "${MODEL}") { status } }`)).data.productModel.status).toBe('ACTIVE');
    expect(await listProductModelStatusChanges(modelsDb, MODEL)).toHaveLength(2);
    // The longest reason allowed is accepted.
    const longest = await fed.query(SET_ENTERPRISE, { c: 'CNST02', s: 'ACTIVE', r: 'r'.repeat(500) });
    expect(longest.errors).toBeUndefined();
  });
});
