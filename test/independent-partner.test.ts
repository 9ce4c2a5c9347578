import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIndependentPartner } from './fixtures/independent-partner/node.js';
import { startFederation, type Federation } from './support/federation.js';
import { seedNode } from './support/seed-node.js';

/**
 * A partner node written from docs/partner-contract.md and the SDL alone (test/fixtures/independent-partner,
 * by someone who did not read this codebase) joins the federation: conformance-checked, then queried.
 */
describe('an independently written partner node', () => {
  let fed: Federation;
  let partner: Awaited<ReturnType<typeof startIndependentPartner>>;
  let cn: string[];
  const jp = ['JPINDP000001' + '1'.padStart(17, '0'), 'JPINDP000001' + '2'.padStart(17, '0')];

  beforeAll(async () => {
    fed = await startFederation([{ country: 'CN' }], { checkConformance: true });
    cn = await seedNode(fed.nodes[0]!, 'CNAAAA', 'CNAAAA000001', 2);
    partner = await startIndependentPartner({
      country: 'JP',
      enterprises: [{ code: 'JPINDP', name: 'Independent Robotics KK' }],
      models: [{ code: 'JPINDP000001', name: 'Kaze', category: 'humanoid' }],
      units: jp.map((code) => ({ model: code.slice(0, 12), serial: code.slice(12) })),
    });
  });
  afterAll(async () => {
    await fed?.stop();
    await partner?.stop();
  });

  it('passes the conformance check and is added to the directory', async () => {
    const result = await fed.gateway.store.apply({
      registries: [...fed.directoryInput.registries, { name: 'Japan registry (independent)', countries: ['JP'], subgraphs: partner.urls }],
    });
    expect(result).toEqual({ applied: true, problems: [], warnings: [] });
  });

  it('answers a mixed query and the customs verdict for its codes', async () => {
    partner.requests.length = 0;
    const result = await fed.query(`query($c: [ID!]!, $v: [String!]!) {
      units(codes: $c) { code serial enterprise { name } model { name } state }
      verifyMany(codes: $v) { code verdict reasons { code } }
    }`, { c: [jp[0], cn[0], 'JPINDP000001' + '9'.repeat(17), jp[1]], v: [jp[0], 'JPINDP000001' + '9'.repeat(17)] });
    expect(result.errors).toBeUndefined();
    expect(result.data.units).toEqual([
      { code: jp[0], serial: jp[0]!.slice(12), enterprise: { name: 'Independent Robotics KK' }, model: { name: 'Kaze' }, state: 'REGISTERED' },
      { code: cn[0], serial: cn[0]!.slice(12), enterprise: { name: 'Maker CNAAAA' }, model: { name: 'Model CNAAAA000001' }, state: 'REGISTERED' },
      null,
      { code: jp[1], serial: jp[1]!.slice(12), enterprise: { name: 'Independent Robotics KK' }, model: { name: 'Kaze' }, state: 'REGISTERED' },
    ]);
    expect(result.data.verifyMany).toEqual([
      { code: jp[0], verdict: 'ADMIT', reasons: [] },
      { code: 'JPINDP000001' + '9'.repeat(17), verdict: 'REFUSE', reasons: [{ code: 'NOT_REGISTERED' }] },
    ]);
    // One enterprise asked for once, although two units share it.
    const enterpriseBodies = partner.requests.filter((r) => r.subgraph === 'enterprises' && r.body.variables?.representations);
    expect(enterpriseBodies.map((r) => r.body.variables.representations)).toContainEqual([{ __typename: 'Enterprise', code: 'JPINDP' }]);
  });
});
