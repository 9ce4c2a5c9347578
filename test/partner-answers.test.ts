import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger, rootLogger, setRootLogger } from '../lib/logging/logger.js';
import { startFederation, type Federation } from './support/federation.js';
import { nodeQuery, seedNode } from './support/seed-node.js';
import { startTamperingProxy, type ProxiedRequest, type Tamper } from './support/tampering-proxy.js';

/**
 * A partner's answers are checked, never trusted by position: a real German node sits behind a proxy
 * that reorders, falsifies, pads or cuts its answers. Whatever it does, no item may carry another
 * item's data; an item whose answer cannot be matched to its key is REGISTRY_UNAVAILABLE.
 */
describe('partner answers are matched by key', () => {
  let fed: Federation;
  let proxy: Awaited<ReturnType<typeof startTamperingProxy>>;
  let de: string[];
  let clean: string, stolen: string;
  const unregistered = 'DEBBBB000001' + '9'.repeat(17);
  const logLines: Record<string, any>[] = [];
  const previousLogger = rootLogger();

  const UNITS = `query($c: [ID!]!) { units(codes: $c) { code serial state model { name } enterprise { name } } }`;
  const honest = (code: string) => ({ code, serial: code.slice(12), state: code === stolen ? 'STOLEN' : 'REGISTERED', model: { name: 'Model DEBBBB000001' }, enterprise: { name: 'Maker DEBBBB' } });
  const unavailable = (path: (string | number)[]) => ({
    message: 'registry "DE registry" for country DE is unavailable (its answer did not match the key asked)',
    path,
    extensions: { code: 'REGISTRY_UNAVAILABLE', country: 'DE' },
  });
  const requestsSince = (start: number) => proxy.requests.slice(start).map((r) => r.subgraph).sort();

  beforeAll(async () => {
    setRootLogger(createLogger({ level: 'info', destination: { write: (line: string) => void logLines.push(JSON.parse(line)) } }));
    fed = await startFederation([{ country: 'CN' }, { country: 'DE', name: 'DE registry' }], { checkConformance: false });
    await seedNode(fed.nodes[0]!, 'CNAAAA', 'CNAAAA000001', 1);
    de = await seedNode(fed.nodes[1]!, 'DEBBBB', 'DEBBBB000001', 3);
    [clean, stolen] = [de[0]!, de[1]!];
    await nodeQuery(fed.nodes[1]!, 'lifecycle', `mutation($e: [LifecycleEventInput!]!) { recordEvents(events: $e) { eventId } }`, {
      e: [{ eventId: 'theft-1', unit: stolen, type: 'REPORTED_STOLEN', occurredAt: new Date().toISOString() }],
    });
    proxy = await startTamperingProxy(fed.nodes[1]!);
    const [home, partner] = fed.directoryInput.registries;
    const applied = await fed.gateway.store.apply({ registries: [home!, { ...partner, subgraphs: proxy.subgraphs }] });
    expect(applied.applied).toBe(true);
  });
  afterAll(async () => {
    await fed?.stop();
    await proxy?.stop();
    setRootLogger(previousLogger);
  });
  beforeEach(() => {
    proxy.tamper = null;
    logLines.length = 0;
  });

  it('costs one fetch per subgraph on the honest path, and a reordering partner costs no more', async () => {
    let start = proxy.requests.length;
    const result = await fed.query(UNITS, { c: de });
    expect(result).toEqual({ data: { units: de.map(honest) } });
    expect(requestsSince(start)).toEqual(['enterprises', 'lifecycle', 'product-models', 'units']);

    proxy.tamper = onLists('*', (list) => [...list].reverse());
    start = proxy.requests.length;
    // Every list the partner returns (the root units and each _entities) comes back reversed.
    expect(await fed.query(UNITS, { c: de })).toEqual({ data: { units: de.map(honest) } });
    expect(requestsSince(start)).toEqual(['enterprises', 'lifecycle', 'product-models', 'units']);
    const reordered = logLines.filter((l) => l.registry === 'DE registry' && /matched by key/.test(l.msg));
    expect(reordered.map((l) => l.subgraph).sort()).toEqual(['lifecycle', 'units']);
  });

  it('never admits a stolen robot because a partner answered in another order', async () => {
    proxy.tamper = onLists('*', (list) => [...list].reverse());
    for (const codes of [[clean, stolen], [stolen, clean], [clean, unregistered, stolen]]) {
      const result = await fed.query(`query($c: [String!]!) { verifyMany(codes: $c) { code verdict reasons { code } } }`, { c: codes });
      expect(result.errors).toBeUndefined();
      expect(result.data.verifyMany).toEqual(codes.map((code) => ({
        code,
        ...(code === stolen ? { verdict: 'REFUSE', reasons: [{ code: 'STOLEN' }] } : code === clean ? { verdict: 'ADMIT', reasons: [] } : { verdict: 'REFUSE', reasons: [{ code: 'NOT_REGISTERED' }] }),
      })));
    }
  });

  it('gives UNKNOWN, never ADMIT, when the lifecycle facts for a code are another unit\'s', async () => {
    // The partner's lifecycle answers the clean unit's facts for every code it is asked about.
    proxy.tamper = onLists('lifecycle', (list) => list.map(() => structuredClone(list[0])));
    const result = await fed.query(`query($c: [String!]!) { verifyMany(codes: $c) { code verdict reasons { code } } }`, { c: [clean, stolen] });
    expect(result.errors).toBeUndefined();
    expect(result.data.verifyMany).toEqual([
      { code: clean, verdict: 'UNKNOWN', reasons: [{ code: 'REGISTRY_UNAVAILABLE' }] },
      { code: stolen, verdict: 'UNKNOWN', reasons: [{ code: 'REGISTRY_UNAVAILABLE' }] },
    ]);
    const warnings = logLines.filter((l) => l.registry === 'DE registry' && /did not match the keys asked/.test(l.msg));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ subgraph: 'lifecycle', untrusted: 2 });
  });

  it('gives UNKNOWN when the facts come back as another type of entity', async () => {
    // Every entry of the lifecycle answer says it is a Unit where a Verification was asked.
    proxy.tamper = (answer, request) => (request.subgraph === 'lifecycle' ? JSON.parse(JSON.stringify(answer).replaceAll('"Verification"', '"Unit"')) : answer);
    const result = await fed.query(`query($c: [String!]!) { verifyMany(codes: $c) { code verdict reasons { code } } }`, { c: [stolen, clean] });
    expect(result.data.verifyMany).toEqual([
      { code: stolen, verdict: 'UNKNOWN', reasons: [{ code: 'REGISTRY_UNAVAILABLE' }] },
      { code: clean, verdict: 'UNKNOWN', reasons: [{ code: 'REGISTRY_UNAVAILABLE' }] },
    ]);
  });

  it('gives UNKNOWN for a code whose facts come back under a wrong key, and judges the others', async () => {
    proxy.tamper = onLists('lifecycle', (list) => list.map((entry) => falsify(entry, stolen)));
    const result = await fed.query(`query($c: [String!]!) { verifyMany(codes: $c) { code verdict reasons { code } } }`, { c: [clean, stolen] });
    expect(result.data.verifyMany).toEqual([
      { code: clean, verdict: 'ADMIT', reasons: [] },
      { code: stolen, verdict: 'UNKNOWN', reasons: [{ code: 'REGISTRY_UNAVAILABLE' }] },
    ]);
  });

  it('makes an entity answered under a wrong key REGISTRY_UNAVAILABLE, and only that one', async () => {
    proxy.tamper = onLists('lifecycle', (list) => list.map((entry) => falsify(entry, de[2]!)));
    const result = await fed.query(`query($c: [ID!]!) { units(codes: $c) { code state } }`, { c: de });
    expect(result.data.units).toEqual([{ code: de[0], state: 'REGISTERED' }, { code: de[1], state: 'STOLEN' }, null]);
    expect(result.errors).toEqual([unavailable(['units', 2])]);
  });

  it('drops an extra entity and trusts only the entries it can match', async () => {
    proxy.tamper = onLists('lifecycle', (list, request) => [...list, falsify(list[0], request.body.variables!.representations[0].code)]);
    const entities = await fed.query(`query($c: [ID!]!) { units(codes: $c) { code state } }`, { c: de });
    // Every unit asked was answered under its own key: the extra entry changes nothing.
    expect(entities).toEqual({ data: { units: de.map((code) => ({ code, state: honest(code).state })) } });

    // In a root list with an extra entry, a null can no longer be told apart: "not registered" or lost?
    proxy.tamper = onLists('units', (list) => [...list, falsify(list[0], list[0].code)]);
    const root = await fed.query(`query($c: [ID!]!) { units(codes: $c) { code } }`, { c: [de[0], unregistered, de[2]] });
    expect(root.data.units).toEqual([{ code: de[0] }, null, { code: de[2] }]);
    expect(root.errors).toEqual([unavailable(['units', 1])]);
  });

  it('makes the items missing from a short answer REGISTRY_UNAVAILABLE', async () => {
    proxy.tamper = onLists('lifecycle', (list) => list.slice(0, -1));
    const entities = await fed.query(`query($c: [ID!]!) { units(codes: $c) { code state } }`, { c: de });
    expect(entities.data.units).toEqual([{ code: de[0], state: 'REGISTERED' }, { code: de[1], state: 'STOLEN' }, null]);
    expect(entities.errors).toEqual([unavailable(['units', 2])]);

    proxy.tamper = onLists('units', (list) => list.slice(0, -1));
    const root = await fed.query(`query($c: [ID!]!) { units(codes: $c) { code } }`, { c: de });
    expect(root.data.units).toEqual([{ code: de[0] }, { code: de[1] }, null]);
    expect(root.errors).toEqual([unavailable(['units', 2])]);
  });

  it('puts a reversed units(codes:) answer back by code, with a mixed-country list and errors in place', async () => {
    proxy.tamper = onLists('units', (list) => [...list].reverse());
    const cn = 'CNAAAA000001' + '1'.padStart(17, '0');
    const codes = [de[2], cn, 'DE-bad', de[0], unregistered, de[1]];
    const result = await fed.query(`query($c: [ID!]!) { units(codes: $c) { code } }`, { c: codes });
    expect(result.data.units).toEqual([{ code: de[2] }, { code: cn }, null, { code: de[0] }, null, { code: de[1] }]);
    expect(result.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['units', 2], 'MALFORMED_CODE']]);

    // A code asked twice is answered twice: both entries are placed, whatever their order.
    const repeated = await fed.query(`query($c: [ID!]!) { units(codes: $c) { code } }`, { c: [de[0], de[0], de[1]] });
    expect(repeated).toEqual({ data: { units: [{ code: de[0] }, { code: de[0] }, { code: de[1] }] } });
  });

  it('trusts no entry of units(codes:) for a code answered more often than asked', async () => {
    // The partner answers the third unit's record in the second unit's place.
    proxy.tamper = onLists('units', (list) => [list[0], structuredClone(list[2]), list[2]]);
    const result = await fed.query(`query($c: [ID!]!) { units(codes: $c) { code serial } }`, { c: de });
    expect(result.data.units).toEqual([{ code: de[0], serial: de[0]!.slice(12) }, null, null]);
    expect(result.errors).toEqual([unavailable(['units', 1]), unavailable(['units', 2])]);
  });

  it('checks single root fields too: unit, enterprise and productModel under another code are REGISTRY_UNAVAILABLE', async () => {
    proxy.tamper = (answer) => JSON.parse(JSON.stringify(answer).replaceAll(de[0]!, de[2]!).replaceAll('"DEBBBB"', '"DEBBB9"').replaceAll('"DEBBBB000001"', '"DEBBBB000009"'));
    const result = await fed.query(`{
      unit(code: "${de[0]!.toLowerCase()}") { serial }
      enterprise(code: "DEBBBB") { name }
      productModel(code: "DEBBBB000001") { name }
    }`);
    expect(result.data).toEqual({ unit: null, enterprise: null, productModel: null });
    expect(result.errors).toEqual(expect.arrayContaining([unavailable(['unit']), unavailable(['enterprise']), unavailable(['productModel'])]));

    proxy.tamper = null;
    const honestResult = await fed.query(`{ unit(code: "${de[0]!.toLowerCase()}") { serial } enterprise(code: "DEBBBB") { name } }`);
    expect(honestResult).toEqual({ data: { unit: { serial: de[0]!.slice(12) }, enterprise: { name: 'Maker DEBBBB' } } });
  });
});

/** Applies `change` to every list the partner returns from `subgraph` (root `units` and `_entities`). */
function onLists(subgraph: ProxiedRequest['subgraph'] | '*', change: (list: any[], request: ProxiedRequest) => any[]): Tamper {
  return (answer, request) => {
    if ((subgraph !== '*' && request.subgraph !== subgraph) || !answer.data) return answer;
    const data = { ...answer.data };
    for (const field of ['_entities', 'units']) if (Array.isArray(data[field]) && data[field].length) data[field] = change(data[field], request);
    return { ...answer, data };
  };
}

/** The entry rewritten as if it were about another code (the last character changed), when it mentions `code`. */
function falsify(entry: unknown, code: string): any {
  if (entry === null) return entry;
  const other = code.slice(0, -1) + (code.endsWith('9') ? '8' : '9');
  return JSON.parse(JSON.stringify(entry).replaceAll(code, other));
}
