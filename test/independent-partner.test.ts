import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkEndpoint } from '../gateway/conformance/check-registry.js';
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

  it('serves a contract 1.0 node: what 1.1 added reads null for its items, everything else answers', async () => {
    // The node serves the SDL as it was before contract 1.1 (test/fixtures/independent-partner/schema-1.0).
    const report = await checkEndpoint('enterprises', partner.urls.enterprises, 'JP');
    expect(report.problems).toEqual([]);
    expect(report.contractVersion).toBe('1.0');
    expect(report.notes).toEqual([expect.stringContaining('declares no partner contract version'), expect.stringContaining('Enterprise.statusHistory')]);

    const query = `query($j: ID!, $c: ID!, $v: String!) {
      jp: unit(code: $j) { code enterprise { name statusHistory { totalCount } } model { name statusHistory { totalCount } }
        provenance { owners { owner } pagedOwners { totalCount } } }
      cn: unit(code: $c) { code enterprise { name statusHistory { totalCount } } provenance { pagedOwners { totalCount } } }
      verify(code: $v) { input canonical verdict answeredBy { country name } } }`;
    for (let round = 0; round < 2; round++) {
      // Neither round sends the fields the node lacks (known from the conformance check).
      const result = await fed.query(query, { j: jp[0], c: cn[0], v: jp[0] });
      expect(result.errors).toBeUndefined();
      expect(result.data.jp).toEqual({
        code: jp[0],
        enterprise: { name: 'Independent Robotics KK', statusHistory: null },
        model: { name: 'Kaze', statusHistory: null },
        provenance: { owners: [], pagedOwners: null },
      });
      expect(result.data.cn).toEqual({ code: cn[0], enterprise: { name: 'Maker CNAAAA', statusHistory: { totalCount: 0 } }, provenance: { pagedOwners: { totalCount: 0 } } });
      expect(result.data.verify).toEqual({ input: jp[0], canonical: jp[0], verdict: 'ADMIT', answeredBy: { country: 'JP', name: 'Japan registry (independent)' } });
    }
    // The conformance check found the fields its SDL lacks: the gateway never asks it for them.
    const asked = partner.requests.filter((r) => typeof r.body.query === 'string' && /statusHistory|pagedOwners/.test(r.body.query) && !r.body.query.includes('_service'));
    expect(asked).toEqual([]);
  });
});
