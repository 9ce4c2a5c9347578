import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CERTIFICATION_SDL, startExtension } from './fixtures/certification-extension.js';
import { startFakeRegistry } from './support/fake-registry.js';
import { startFederation, type Federation } from './support/federation.js';
import { seedNode } from './support/seed-node.js';

const code = (country: string) => `${country}XXXX000001${'1'.padStart(17, '0')}`;

describe('a slow, dead or broken partner costs only its own items', () => {
  let fed: Federation;
  let cn: string[];
  const fakes: Awaited<ReturnType<typeof startFakeRegistry>>[] = [];
  beforeAll(async () => {
    fed = await startFederation([{ country: 'CN' }], { checkConformance: false });
    cn = await seedNode(fed.nodes[0]!, 'CNAAAA', 'CNAAAA000001', 2);
    const hang = await startFakeRegistry('hang');
    const garbage = await startFakeRegistry('not-json');
    const short = await startFakeRegistry('wrong-entity-count');
    const failing = await startFakeRegistry('http-500');
    fakes.push(hang, garbage, short, failing);
    const applied = await fed.gateway.store.apply({
      registries: [
        ...fed.directoryInput.registries,
        { name: 'Hanging registry', countries: ['HG'], subgraphs: hang.subgraphs, limits: { timeoutMs: 300, breakAfterFailures: 3 } },
        { name: 'Garbage registry', countries: ['GB'], subgraphs: garbage.subgraphs },
        { name: 'Short registry', countries: ['SH'], subgraphs: short.subgraphs },
        { name: 'Failing registry', countries: ['FL'], subgraphs: failing.subgraphs },
      ],
    });
    expect(applied.applied).toBe(true);
  });
  afterAll(async () => {
    await fed?.stop();
    await Promise.all(fakes.map((f) => f.stop()));
  });

  it('answers within the timeout when a partner hangs, with REGISTRY_UNAVAILABLE for its items only', async () => {
    // The partner never answers: that an answer arrives at all, saying why, is the timeout at work.
    const result = await fed.query(`query($c: [ID!]!) { units(codes: $c) { code } }`, { c: [cn[0], code('HG'), cn[1]] });
    expect(result.data.units).toEqual([{ code: cn[0] }, null, { code: cn[1] }]);
    expect(result.errors).toEqual([
      { message: 'registry "Hanging registry" for country HG is unavailable (no answer within 300 ms)', path: ['units', 1], extensions: { code: 'REGISTRY_UNAVAILABLE', country: 'HG' } },
    ]);
  });

  it('gives a verdict of UNKNOWN with REGISTRY_UNAVAILABLE, not an error, for codes of a registry that cannot answer', async () => {
    const result = await fed.query(`query($c: [String!]!) { verifyMany(codes: $c) { code verdict reasons { code severity } unit { code } } }`, { c: [code('GB'), cn[0]] });
    expect(result.errors).toBeUndefined();
    expect(result.data.verifyMany).toEqual([
      { code: code('GB'), verdict: 'UNKNOWN', reasons: [{ code: 'REGISTRY_UNAVAILABLE', severity: 'WARNING' }], unit: null },
      { code: cn[0], verdict: 'ADMIT', reasons: [], unit: { code: cn[0] } },
    ]);
  });

  it('opens the circuit after repeated failures, then fails fast without calling the partner', async () => {
    for (let i = 0; i < 3; i++) await fed.query(`{ unit(code: "${code('HG')}") { code } }`);
    const calls = fakes[0]!.requests;
    const result = await fed.query(`{ unit(code: "${code('HG')}") { code } }`);
    // Failing fast means not calling the partner at all.
    expect(fakes[0]!.requests).toBe(calls);
    expect(result.errors![0]!.message).toContain('circuit open');
    const registry = await fed.query(`{ registry(country: "HG") { reachable } }`);
    expect(registry.data.registry.reachable).toBe(false);
  });

  it('treats malformed answers as unavailability and leaks nothing of them', async () => {
    const result = await fed.query(`query($c: [ID!]!) { units(codes: $c) { code model { name } } }`, { c: [code('GB'), cn[0], code('SH'), code('FL')] });
    expect(result.data.units).toEqual([null, { code: cn[0], model: { name: 'Model CNAAAA000001' } }, null, null]);
    const byPath = [...result.errors!].sort((a, b) => (a.path![1] as number) - (b.path![1] as number));
    expect(byPath.map((e) => [e.path, e.extensions])).toEqual([
      [['units', 0], { code: 'REGISTRY_UNAVAILABLE', country: 'GB' }],
      [['units', 2], { code: 'REGISTRY_UNAVAILABLE', country: 'SH' }],
      [['units', 3], { code: 'REGISTRY_UNAVAILABLE', country: 'FL' }],
    ]);
    for (const error of result.errors!) {
      expect(error.extensions!.code).toBe('REGISTRY_UNAVAILABLE');
      expect(JSON.stringify(error)).not.toMatch(/127\.0\.0\.1|10\.0\.0\.7|html|stacktrace|secret|5432/);
    }
    expect(result.errors).toHaveLength(3);
  });

  it('answers entity fetches of a malformed partner per item (an entity batch with a short _entities)', async () => {
    const result = await fed.query(`{ registries { country enterprises(first: 1) { totalCount } } }`);
    const byCountry = Object.fromEntries(result.data.registries.map((r: any) => [r.country, r.enterprises]));
    expect(byCountry.CN).toEqual({ totalCount: 1 });
    for (const country of ['HG', 'GB', 'SH', 'FL']) expect(byCountry[country]).toBeNull();
  });
});

describe('directory changes', () => {
  let fed: Federation;
  let cn: string[], de: string[];
  beforeAll(async () => {
    fed = await startFederation([{ country: 'CN' }, { country: 'DE' }], { checkConformance: true });
    cn = await seedNode(fed.nodes[0]!, 'CNAAAA', 'CNAAAA000001', 2);
    de = await seedNode(fed.nodes[1]!, 'DEBBBB', 'DEBBBB000001', 2);
  });
  afterAll(() => fed?.stop());

  it('refuses a partner that does not conform, with the reasons, and keeps the last good directory', async () => {
    const [home, partner] = fed.directoryInput.registries as any[];
    // A "units" endpoint that is really an enterprises subgraph.
    const wrong = { ...partner, name: 'Wrong registry', countries: ['WR'], subgraphs: { ...partner.subgraphs, units: partner.subgraphs.enterprises } };
    const result = await fed.gateway.store.apply({ registries: [home, partner, wrong] });
    expect(result.applied).toBe(false);
    expect(result.problems.join('\n')).toMatch(/"Wrong registry" units does not conform: .*Unit/);
    const registries = await fed.query(`{ registries { name } }`);
    expect(registries.data.registries.map((r: any) => r.name)).toEqual(['CN registry', 'DE registry']);
  });

  it('refuses an invalid directory with every problem named', async () => {
    const result = await fed.gateway.store.apply({ registries: [{ name: 'x', countries: ['c'], subgraphs: {}, credentials: { value: 'secret' } }] });
    expect(result.applied).toBe(false);
    expect(result.problems).toEqual(expect.arrayContaining([
      expect.stringContaining('"c" is not 2 characters'),
      expect.stringContaining('subgraphs.units must be an http(s) URL'),
      expect.stringContaining('secrets are never stored in the directory'),
      expect.stringContaining('exactly one registry must have "home": true'),
    ]));
  });

  it('refuses extension subgraphs that take over registry fields or break composition, keeping the old supergraph', async () => {
    const takeOver = await startExtension({ certified: {}, typeDefs: CERTIFICATION_SDL.replace('deCertificate: Certificate', 'deCertificate: Certificate\n    serial: String') });
    const broken = await startExtension({ certified: {}, typeDefs: CERTIFICATION_SDL.replace('code: ID!', 'code: Int!') });
    try {
      const [home, partner] = fed.directoryInput.registries as any[];
      const over = await fed.gateway.store.apply({ registries: [home, { ...partner, extensions: [{ name: 'take-over', url: takeOver.url }] }] });
      expect(over.applied).toBe(false);
      expect(over.problems).toContain('take-over: tries to take over Unit.serial, which the registry owns');
      const bad = await fed.gateway.store.apply({ registries: [home, { ...partner, extensions: [{ name: 'broken', url: broken.url }] }] });
      expect(bad.applied).toBe(false);
      expect(bad.problems.join('\n')).toMatch(/composition: .*Unit\.code/);
      const still = await fed.query(`{ unit(code: "${cn[0]}") { code } }`);
      expect(still).toEqual({ data: { unit: { code: cn[0] } } });
    } finally {
      await takeOver.stop();
      await broken.stop();
    }
  });

  it('removes a registry and adds it back without a restart', async () => {
    const [home, partner] = fed.directoryInput.registries as any[];
    expect((await fed.gateway.store.apply({ registries: [home] })).applied).toBe(true);
    const gone = await fed.query(`{ unit(code: "${de[0]}") { code } registries { country } }`);
    expect(gone.data).toEqual({ unit: null, registries: [{ country: 'CN' }] });
    expect(gone.errors![0]!.extensions).toEqual({ code: 'UNKNOWN_COUNTRY', country: 'DE' });
    expect((await fed.gateway.store.apply({ registries: [home, partner] })).applied).toBe(true);
    const back = await fed.query(`{ unit(code: "${de[0]}") { code } }`);
    expect(back).toEqual({ data: { unit: { code: de[0] } } });
  });

  it('applies directory changes under load without failing a request', async () => {
    const base = fed.directoryInput.registries as any[];
    const variants = [
      { registries: base },
      { registries: [base[0], { ...base[1], name: 'DE registry (renamed)' }] },
      { registries: [base[0], { ...base[1], limits: { timeoutMs: 4000 } }] },
    ];
    let stop = false;
    const failures: unknown[] = [];
    let answered = 0;
    let inFlight = 0;
    // Waits on answers, not on time: resolves once `count` more requests have been answered.
    const waiters: { at: number; resolve: () => void }[] = [];
    const answersFromNow = (count: number) => new Promise<void>((resolve) => waiters.push({ at: answered + count, resolve }));
    const load = Array.from({ length: 8 }, async () => {
      while (!stop) {
        inFlight++;
        const result = await fed.query(`query($c: [ID!]!) { units(codes: $c) { code enterprise { name } } }`, { c: [cn[0], de[0], cn[1], de[1]] });
        inFlight--;
        answered++;
        for (const w of waiters.filter((w) => answered >= w.at)) w.resolve();
        if (result.errors || result.data?.units?.some((u: unknown) => u === null)) failures.push(result);
      }
    });
    const inFlightAtApply: number[] = [];
    for (let i = 0; i < 6; i++) {
      inFlightAtApply.push(inFlight);
      const outcome = await fed.gateway.store.apply(variants[i % variants.length]!);
      expect(outcome.applied).toBe(true);
      await answersFromNow(8); // every directory version serves requests before the next edit
    }
    stop = true;
    await Promise.all(load);
    expect(failures).toEqual([]);
    // Each edit landed while requests were in flight (the load never paused for it).
    expect(inFlightAtApply.every((n) => n > 0), String(inFlightAtApply)).toBe(true);
  });
});
