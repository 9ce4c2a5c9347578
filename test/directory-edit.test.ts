import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSwitchableRegistry } from './support/fake-registry.js';
import { startFederation, type Federation } from './support/federation.js';
import { seedNode } from './support/seed-node.js';

/** A port nothing listens on: taken from the system, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Issue 9, "Directory safety": an edited entry whose new URLs do not answer is flagged and the previous
 * entry keeps serving until the new one answers and passes the conformance check. And `registries
 * { reachable }` follows what live traffic sees, without waiting for the next probe.
 */
describe('an edit of a partner entry to endpoints that do not answer', () => {
  let fed: Federation;
  let cn: string[], de: string[];
  let switches: Awaited<ReturnType<typeof startSwitchableRegistry>>[] = [];
  const units = `query($c: [ID!]!) { units(codes: $c) { code enterprise { name } } }`;
  const health = async () => {
    const body = (await (await fetch(fed.gateway.url.replace('/graphql', '/health/ready'))).json()) as any;
    return body.registries.find((r: any) => r.name === 'DE registry');
  };
  const withDe = (subgraphs: Record<string, string>) => ({
    registries: fed.directoryInput.registries.map((r) => (r.name === 'DE registry' ? { ...r, subgraphs } : r)),
  });

  beforeAll(async () => {
    fed = await startFederation([{ country: 'CN' }, { country: 'DE' }], { checkConformance: true });
    cn = await seedNode(fed.nodes[0]!, 'CNAAAA', 'CNAAAA000001', 1);
    de = await seedNode(fed.nodes[1]!, 'DEBBBB', 'DEBBBB000001', 1);
  });
  afterAll(async () => {
    await fed?.stop();
    await Promise.all(switches.map((s) => s.stop()));
  });

  it('is flagged, and the previous entry keeps serving while the new port is wrong', async () => {
    const port = await closedPort();
    const wrong = Object.fromEntries(Object.entries(fed.nodes[1]!.urls).filter(([name]) => name !== 'audit').map(([name, url]) => [name, url.replace(/:\d+\//, `:${port}/`)]));
    const applied = await fed.gateway.store.apply(withDe(wrong));
    expect(applied.applied).toBe(true);
    expect(applied.warnings).toEqual([expect.stringMatching(/^"DE registry" was edited but its new endpoints are unreachable .*the previous entry keeps serving/)]);
    await fed.gateway.probeAll();
    const result = await fed.query(units, { c: [cn[0], de[0]] });
    expect(result).toEqual({ data: { units: [{ code: cn[0], enterprise: { name: 'Maker CNAAAA' } }, { code: de[0], enterprise: { name: 'Maker DEBBBB' } }] } });
    const report = await health();
    expect(report).toMatchObject({ reachable: true, conformance: { status: 'passed' }, pendingEdit: { subgraphs: wrong, conformance: { status: 'pending' } } });
  });

  it('switches to the new entry once it answers and passes, and not before', async () => {
    const next = await startSwitchableRegistry(fed.nodes[1]!.urls, 'down');
    switches.push(next);
    expect((await fed.gateway.store.apply(withDe(next.subgraphs))).warnings).toEqual([expect.stringContaining('"DE registry" was edited')]);
    // Still down: the original entry serves.
    await fed.gateway.probeAll();
    expect((await fed.query(units, { c: [de[0]] })).errors).toBeUndefined();
    next.mode = 'up';
    await fed.gateway.probeAll();
    expect(await health()).not.toHaveProperty('pendingEdit');
    // The new entry serves now: its switch going down shows in the next request.
    next.mode = 'down';
    const result = await fed.query(`query($c: [ID!]!) { units(codes: $c) { code } }`, { c: [de[0]] });
    expect(result.data).toEqual({ units: [null] });
    expect(result.errors?.[0]?.extensions).toEqual({ code: 'REGISTRY_UNAVAILABLE', country: 'DE' });
  });

  it('reports the partner unreachable as soon as live traffic failed, before any probe', async () => {
    // The previous request failed against DE; no probe has run since.
    const result = await fed.query(`{ registry(country: "DE") { reachable } home: registry(country: "CN") { reachable } }`);
    expect(result.data).toEqual({ registry: { reachable: false }, home: { reachable: true } });
    expect((await health()).lastFailure).toMatchObject({ reason: 'request failed' });
  });
});
