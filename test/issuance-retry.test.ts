import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFederation, type Caller, type Federation } from './support/federation.js';

/**
 * Retried issuance: a manufacturer that lost the answer to registerUnits retries with the same
 * requestKey and gets the same units, never new ones. Runs on PGlite, and on Postgres with DATABASE_URL.
 */
const ENTERPRISE = 'CNRTRY';
const MODEL = `${ENTERPRISE}H10001`;
const MAKER: Caller = { subject: 'retry-maker', role: 'manufacturer', enterprise: ENTERPRISE };
const OTHER_MAKER: Caller = { subject: 'retry-maker-2', role: 'manufacturer', enterprise: ENTERPRISE };
const REGISTER = `mutation($input: RegisterUnitsInput!) { registerUnits(input: $input) { code registeredAt } }`;

describe('registerUnits with a requestKey', () => {
  let fed: Federation;
  const unitCount = async () => (await fed.query(`{ productModel(code: "${MODEL}") { unitCount } }`)).data.productModel.unitCount as number;
  const register = (input: Record<string, unknown>, as: Caller = MAKER) => fed.query(REGISTER, { input: { model: MODEL, ...input } }, as);

  beforeAll(async () => {
    fed = await startFederation([{ country: 'CN' }]);
    await fed.query(`mutation { registerEnterprise(input: { code: "${ENTERPRISE}", name: "Retry Robotics" }) { code } }`);
    await fed.query(`mutation { registerProductModel(input: { code: "${MODEL}", name: "R1", category: "humanoid" }) { code } }`);
  });
  afterAll(() => fed?.stop());

  it('answers a retry with the units of the first call and registers none', async () => {
    const before = await unitCount();
    const first = await register({ count: 3, requestKey: 'order-1001' });
    expect(first.errors).toBeUndefined();
    expect(first.data.registerUnits).toHaveLength(3);
    const retry = await register({ count: 3, requestKey: 'order-1001' });
    expect(retry).toEqual(first);
    expect(await unitCount()).toBe(before + 3);
    // Without a key the same input is a new request: new units.
    const fresh = await register({ count: 3 });
    expect(fresh.data.registerUnits.map((u: { code: string }) => u.code)).not.toEqual(first.data.registerUnits.map((u: { code: string }) => u.code));
    expect(await unitCount()).toBe(before + 6);
  });

  it('answers a retry of explicit serials with the same units instead of ALREADY_REGISTERED', async () => {
    const input = { serials: ['RETRYSERIAL000001', 'retryserial000002'], requestKey: 'serials-7' };
    const first = await register(input);
    expect(first.data.registerUnits.map((u: { code: string }) => u.code)).toEqual([`${MODEL}RETRYSERIAL000001`, `${MODEL}RETRYSERIAL000002`]);
    expect(await register(input)).toEqual(first);
    const noKey = await register({ serials: input.serials });
    expect(noKey.errors?.[0]?.extensions?.code).toBe('ALREADY_REGISTERED');
  });

  it('refuses the same key with a different input as REQUEST_KEY_CONFLICT and writes nothing', async () => {
    await register({ count: 2, requestKey: 'order-2002' });
    const before = await unitCount();
    const conflict = await register({ count: 5, requestKey: 'order-2002' });
    expect(conflict.data).toBeNull();
    expect(conflict.errors?.[0]?.extensions?.code).toBe('REQUEST_KEY_CONFLICT');
    expect(conflict.errors?.[0]?.message).toMatch(/order-2002.*different/);
    expect(await unitCount()).toBe(before);
  });

  it('registers once when retries with one key arrive together', async () => {
    const before = await unitCount();
    const answers = await Promise.all(Array.from({ length: 8 }, () => register({ count: 4, requestKey: 'burst-1' })));
    for (const answer of answers) expect(answer.errors).toBeUndefined();
    const codes = answers.map((a) => a.data.registerUnits.map((u: { code: string }) => u.code).join());
    expect(new Set(codes).size).toBe(1);
    expect(await unitCount()).toBe(before + 4);
  });

  it('keeps keys per caller: another caller with the same key gets units of its own', async () => {
    const mine = await register({ count: 1, requestKey: 'shared-key' });
    const theirs = await register({ count: 1, requestKey: 'shared-key' }, OTHER_MAKER);
    expect(theirs.errors).toBeUndefined();
    expect(theirs.data.registerUnits[0].code).not.toBe(mine.data.registerUnits[0].code);
  });

  it('refuses a key outside the allowed alphabet or length', async () => {
    for (const requestKey of ['', 'has space', 'x'.repeat(101), 'semi;colon']) {
      const refused = await register({ count: 1, requestKey });
      expect(refused.errors?.[0]?.extensions?.code, JSON.stringify(requestKey)).toBe('BAD_USER_INPUT');
      expect(refused.errors?.[0]?.message).toMatch(/requestKey/);
    }
  });
});
