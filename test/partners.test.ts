import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFederation, type Federation } from './support/federation.js';
import { startExtension } from './fixtures/certification-extension.js';
import { seedNode } from './support/seed-node.js';
import { recordHttpCalls } from './support/subgraph-calls.js';

/** Home plus two partners, each on its own database, and a partner's extension subgraph. */
describe('three registries and an extension subgraph', () => {
  let fed: Federation;
  let extension: Awaited<ReturnType<typeof startExtension>>;
  let cn: string[], de: string[], jp: string[];

  beforeAll(async () => {
    fed = await startFederation([{ country: 'CN', name: 'China registry' }, { country: 'DE', name: 'German registry' }, { country: 'JP', name: 'Japan registry' }], { checkConformance: true });
    cn = await seedNode(fed.nodes[0]!, 'CNAAAA', 'CNAAAA000001', 3);
    de = await seedNode(fed.nodes[1]!, 'DEBBBB', 'DEBBBB000001', 3);
    jp = await seedNode(fed.nodes[2]!, 'JPCCCC', 'JPCCCC000001', 3);
    extension = await startExtension({ certified: { [de[0]!]: 'DE-CERT-1', [cn[1]!]: 'DE-CERT-2' } });
    const registries = fed.directoryInput.registries.map((r) => (r.name === 'German registry' ? { ...r, extensions: [{ name: 'de-certification', url: extension.url }] } : r));
    const applied = await fed.gateway.store.apply({ registries });
    expect(applied).toEqual({ applied: true, problems: [], warnings: [] });
  });
  afterAll(async () => {
    await fed?.stop();
    await extension?.stop();
  });

  it('answers one query mixing codes of all three countries, each unit from its own registry, with the extension field', async () => {
    const codes = [jp[0], cn[1], de[0], jp[2], de[2]];
    const result = await fed.query(`query($codes: [ID!]!) { units(codes: $codes) { code enterprise { name } model { name } state deCertificate { number issuedBy } } }`, { codes });
    expect(result.errors).toBeUndefined();
    expect(result.data.units).toEqual([
      { code: jp[0], enterprise: { name: 'Maker JPCCCC' }, model: { name: 'Model JPCCCC000001' }, state: 'REGISTERED', deCertificate: null },
      { code: cn[1], enterprise: { name: 'Maker CNAAAA' }, model: { name: 'Model CNAAAA000001' }, state: 'REGISTERED', deCertificate: { number: 'DE-CERT-2', issuedBy: 'Prüfstelle Robotik' } },
      { code: de[0], enterprise: { name: 'Maker DEBBBB' }, model: { name: 'Model DEBBBB000001' }, state: 'REGISTERED', deCertificate: { number: 'DE-CERT-1', issuedBy: 'Prüfstelle Robotik' } },
      { code: jp[2], enterprise: { name: 'Maker JPCCCC' }, model: { name: 'Model JPCCCC000001' }, state: 'REGISTERED', deCertificate: null },
      { code: de[2], enterprise: { name: 'Maker DEBBBB' }, model: { name: 'Model DEBBBB000001' }, state: 'REGISTERED', deCertificate: null },
    ]);
  });

  it('sends identical representations to a registry once', async () => {
    const recorder = recordHttpCalls();
    try {
      const result = await fed.query(`query($codes: [ID!]!) { units(codes: $codes) { model { name } } }`, { codes: de });
      expect(result.data.units).toEqual(de.map(() => ({ model: { name: 'Model DEBBBB000001' } })));
    } finally {
      recorder.stop();
    }
    const sent = recorder.calls.filter((c) => c.url === fed.nodes[1]!.urls['product-models']).map((c) => JSON.parse(c.body).variables?.representations ?? []);
    // Three units of one model: the model is asked for once.
    expect(sent).toEqual([[{ __typename: 'ProductModel', code: 'DEBBBB000001' }]]);
  });

  it('sends identical representations to an extension once, and answers each of them', async () => {
    extension.representations.length = 0;
    const result = await fed.query(`query($c: [ID!]!) { units(codes: $c) { code deCertificate { number } } }`, { c: [de[0], cn[1], de[0], de[0]] });
    expect(result.data.units).toEqual([
      { code: de[0], deCertificate: { number: 'DE-CERT-1' } },
      { code: cn[1], deCertificate: { number: 'DE-CERT-2' } },
      { code: de[0], deCertificate: { number: 'DE-CERT-1' } },
      { code: de[0], deCertificate: { number: 'DE-CERT-1' } },
    ]);
    expect(extension.representations).toEqual([[{ __typename: 'Unit', code: de[0] }, { __typename: 'Unit', code: cn[1] }]]);
  });

  it('refuses an extension subgraph that does not answer when it is added', async () => {
    const down = await startExtension({ certified: {} });
    const url = down.url;
    await down.stop();
    const registries = fed.directoryInput.registries.map((r) => (r.name === 'German registry' ? { ...r, extensions: [{ name: 'de-certification', url: extension.url }, { name: 'de-insurance', url }] } : r));
    // The extension must answer once to be composed; with it unreachable from the start, it is refused.
    const refused = await fed.gateway.store.apply({ registries });
    expect(refused.applied).toBe(false);
    expect(refused.problems.join()).toContain('extension "de-insurance" of "German registry" does not answer');
  });

  it('keeps answering when a composed extension goes down: its field is null with an error per unit', async () => {
    await extension.stop();
    const result = await fed.query(`query($c: [ID!]!) { units(codes: $c) { code deCertificate { number } } }`, { c: [de[0], cn[1]] });
    expect(result.data.units).toEqual([{ code: de[0], deCertificate: null }, { code: cn[1], deCertificate: null }]);
    expect(result.errors).toHaveLength(2);
    for (const error of result.errors!) {
      expect(error.extensions).toEqual({ code: 'REGISTRY_UNAVAILABLE' });
      expect(error.message).toContain('extension subgraph "de-certification" of "German registry" is unavailable');
    }
  });

  it('reports each registry, home and reachability, and keeps serving the others when one goes down', async () => {
    const before = await fed.query(`{ registries { country name home reachable } }`);
    expect(before.data.registries).toEqual([
      { country: 'CN', name: 'China registry', home: true, reachable: true },
      { country: 'DE', name: 'German registry', home: false, reachable: true },
      { country: 'JP', name: 'Japan registry', home: false, reachable: true },
    ]);
    await fed.nodes[2]!.stop();
    await fed.gateway.probeAll();
    const after = await fed.query(`query($codes: [ID!]!) { registry(country: "JP") { reachable } units(codes: $codes) { code } }`, { codes: [cn[0], jp[0]] });
    expect(after.data).toEqual({ registry: { reachable: false }, units: [{ code: cn[0] }, null] });
    expect(after.errors).toEqual([expect.objectContaining({ path: ['units', 1], extensions: { code: 'REGISTRY_UNAVAILABLE', country: 'JP' } })]);
    const health = (await (await fetch(fed.gateway.url.replace('/graphql', '/health/ready'))).json()) as any;
    expect(health.status).toBe('ready');
    expect(health.registries.find((r: any) => r.name === 'Japan registry')).toMatchObject({ reachable: false, lastFailure: { reason: 'request failed' } });
  });
});
