import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSwitchableRegistry } from './support/fake-registry.js';
import { startFederation, type Federation } from './support/federation.js';
import { seedNode } from './support/seed-node.js';

type Switchable = Awaited<ReturnType<typeof startSwitchableRegistry>>;

/**
 * Design, "Trust": a registry that was unreachable when it was added is conformance-checked when it
 * first answers, and serves nothing until it passes. Real nodes, each behind a switch that keeps it
 * "down" (connections dropped) until the test brings it up, honest or altered.
 */
describe('a partner added while it does not answer', () => {
  let fed: Federation;
  let cn: string[], de: string[], jp: string[];
  let deSwitch: Switchable, jpSwitch: Switchable;
  const proxies: Switchable[] = [];
  const units = `query($c: [ID!]!) { units(codes: $c) { code enterprise { name } } }`;
  const health = async (name: string) => {
    const body = (await (await fetch(fed.gateway.url.replace('/graphql', '/health/ready'))).json()) as any;
    return body.registries.find((r: any) => r.name === name);
  };
  const partners = (overrides: Record<string, Record<string, string>>) =>
    fed.directoryInput.registries.map((r) => (overrides[r.name as string] ? { ...r, subgraphs: overrides[r.name as string] } : r));

  beforeAll(async () => {
    fed = await startFederation([{ country: 'CN' }, { country: 'DE' }, { country: 'JP' }], { checkConformance: true });
    cn = await seedNode(fed.nodes[0]!, 'CNAAAA', 'CNAAAA000001', 1);
    de = await seedNode(fed.nodes[1]!, 'DEBBBB', 'DEBBBB000001', 1);
    jp = await seedNode(fed.nodes[2]!, 'JPCCCC', 'JPCCCC000001', 1);
    deSwitch = await startSwitchableRegistry(fed.nodes[1]!.urls, 'down');
    jpSwitch = await startSwitchableRegistry(fed.nodes[2]!.urls, 'down');
    proxies.push(deSwitch, jpSwitch);
    // DE and JP leave the directory, so that the tests below add them anew (an edited entry keeps its previous one serving).
    expect((await fed.gateway.store.apply({ registries: fed.directoryInput.registries.slice(0, 1) })).applied).toBe(true);
  });
  afterAll(async () => {
    await fed?.stop();
    await Promise.all(proxies.map((p) => p.stop()));
  });

  it('is accepted with a warning, and its items answer REGISTRY_UNAVAILABLE naming the missing check', async () => {
    const applied = await fed.gateway.store.apply({ registries: partners({ 'DE registry': deSwitch.subgraphs, 'JP registry': jpSwitch.subgraphs }) });
    expect(applied.applied).toBe(true);
    expect(applied.warnings).toEqual([expect.stringContaining('"DE registry" is unreachable now'), expect.stringContaining('"JP registry" is unreachable now')]);
    // Still down at the probe: nothing changes.
    await fed.gateway.probeAll();
    const result = await fed.query(`query($c: [ID!]!) { units(codes: $c) { code } registry(country: "DE") { reachable } }`, { c: [cn[0], de[0]] });
    expect(result.data).toEqual({ units: [{ code: cn[0] }, null], registry: { reachable: false } });
    expect(result.errors).toEqual([
      {
        message: 'registry "DE registry" for country DE is unavailable (it has not passed the conformance check yet: it did not answer when it was added)',
        path: ['units', 1],
        extensions: { code: 'REGISTRY_UNAVAILABLE', country: 'DE' },
      },
    ]);
    expect(await health('DE registry')).toMatchObject({ reachable: false, conformance: { status: 'pending' } });
  });

  it('serves once it answers and its probe has run the conformance check', async () => {
    deSwitch.mode = 'up';
    await fed.gateway.probeAll();
    const result = await fed.query(units, { c: [cn[0], de[0]] });
    expect(result).toEqual({ data: { units: [{ code: cn[0], enterprise: { name: 'Maker CNAAAA' } }, { code: de[0], enterprise: { name: 'Maker DEBBBB' } }] } });
    expect(await health('DE registry')).toMatchObject({ reachable: true, conformance: { status: 'passed' } });
  });

  it('never serves when it comes up answering entities out of order', async () => {
    jpSwitch.mode = 'entities-reversed';
    await fed.gateway.probeAll();
    await fed.gateway.probeAll();
    const result = await fed.query(`query($c: [ID!]!) { units(codes: $c) { code } registry(country: "JP") { reachable } }`, { c: [jp[0], de[0]] });
    expect(result.data).toEqual({ units: [null, { code: de[0] }], registry: { reachable: false } });
    expect(result.errors).toEqual([
      {
        message: 'registry "JP registry" for country JP is unavailable (it has not passed the conformance check: its answers do not conform to the partner contract)',
        path: ['units', 0],
        extensions: { code: 'REGISTRY_UNAVAILABLE', country: 'JP' },
      },
    ]);
    const jpHealth = await health('JP registry');
    expect(jpHealth.reachable).toBe(false);
    expect(jpHealth.conformance.status).toBe('failed');
    expect(jpHealth.conformance.problems.join('\n')).toMatch(/answers out of order/);
  });

  it('never serves when it comes up without a contract field, even after its endpoints change', async () => {
    const without = await startSwitchableRegistry(fed.nodes[2]!.urls, 'down');
    proxies.push(without);
    const applied = await fed.gateway.store.apply({ registries: partners({ 'DE registry': deSwitch.subgraphs, 'JP registry': without.subgraphs }) });
    expect(applied.warnings).toEqual([expect.stringContaining('"JP registry" is unreachable now')]);
    expect((await health('JP registry')).conformance).toEqual({ status: 'pending' });
    without.mode = 'without-serial';
    await fed.gateway.probeAll();
    const result = await fed.query(units, { c: [jp[0]] });
    expect(result.data).toEqual({ units: [null] });
    expect(result.errors![0]!.extensions).toEqual({ code: 'REGISTRY_UNAVAILABLE', country: 'JP' });
    expect((await health('JP registry')).conformance.problems).toEqual(expect.arrayContaining([expect.stringMatching(/^units does not conform: Unit\.serial was removed/)]));
    // The partner that passed keeps serving.
    expect((await fed.query(units, { c: [de[0]] })).errors).toBeUndefined();
  });
});
