import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkEndpoint } from '../gateway/conformance/check-registry.js';
import { sdlNotes, sdlProblems } from '../gateway/conformance/sdl-compatibility.js';
import type { StatementEvent } from '../lib/database/database.js';
import { loadSdl } from '../lib/schema/contract.js';
import { startFakeRegistry } from './support/fake-registry.js';
import { startFederation, type Caller, type Federation } from './support/federation.js';
import { nodeQuery, seedNode } from './support/seed-node.js';
import { TEST_SIGNING } from './support/signing.js';

/**
 * The contract additions customs asked for (issue 11, item 4): what was sent and its canonical code on
 * every verification, which registry answered, reasons that name what they are about, recall(code),
 * status histories and paginated provenance; with their rights, and batched.
 */
const ANALYST: Caller = { subject: 'test-analyst', role: 'analyst' };
const CUSTOMS: Caller = { subject: 'test-customs', role: 'customs', country: 'DE' };

describe('verification contract additions', () => {
  let fed: Federation;
  let fake: Awaited<ReturnType<typeof startFakeRegistry>>;
  let cn: string[];
  let de: string[];
  const model = 'CNVC01AAAAAA';
  const serial = (n: number) => String(n).padStart(17, '0');
  const down = `FL${'X'.repeat(10)}${serial(1)}`;

  const ok = async (query: string, variables?: Record<string, unknown>, as?: Caller) => {
    const result = await fed.query(query, variables, as);
    expect(result.errors, query).toBeUndefined();
    return result.data;
  };

  beforeAll(async () => {
    fed = await startFederation([{ country: 'CN', name: 'China registry' }, { country: 'DE', name: 'German registry' }], { checkConformance: false });
    cn = await seedNode(fed.nodes[0]!, 'CNVC01', model, 5);
    de = await seedNode(fed.nodes[1]!, 'DEVC01', 'DEVC01BBBBBB', 2);
    fake = await startFakeRegistry('http-500');
    const applied = await fed.gateway.store.apply({
      registries: [...fed.directoryInput.registries, { name: 'Failing registry', countries: ['FL'], subgraphs: fake.subgraphs }],
    });
    expect(applied.applied).toBe(true);
    // R0001 on the whole model (remedied on unit 0), R0002 on units 1-2, R0003 closed.
    await ok(`mutation { openRecall(input: { model: "${model}", defect: "D1", remedy: "R1" }) { code } }`);
    await ok(`mutation { openRecall(input: { model: "${model}", serialFrom: "${cn[1]!.slice(12)}", serialTo: "${cn[2]!.slice(12)}", defect: "D2", remedy: "R2" }) { code } }`);
    await ok(`mutation { openRecall(input: { model: "${model}", defect: "D3", remedy: "R3" }) { code } }`);
    await ok(`mutation { closeRecall(code: "${model}R0003") { code } }`);
    await ok(`mutation($e: [LifecycleEventInput!]!) { recordEvents(events: $e) { eventId } }`, {
      e: [{ eventId: 'vc-remedy-0', unit: cn[0], type: 'RECALL_REMEDIED', occurredAt: new Date().toISOString(), recall: `${model}R0001` }],
    });
  });
  afterAll(async () => {
    await fed?.stop();
    await fake?.stop();
  });

  const VERIFY = `query($c: [String!]!) { verifyMany(codes: $c) {
    code input canonical verdict answeredBy { country name }
    reasons { code recalls registry { country name } enterprise model country } } }`;

  it('echoes the input and gives the canonical code (null when malformed) for messy, malformed and foreign codes', async () => {
    const messy = ` ${cn[1]!.slice(0, 2).toLowerCase()}-${cn[1]!.slice(2, 6)} ${cn[1]!.slice(6)} `;
    const inputs = [messy, 'CN-BAD', `ZZ${cn[1]!.slice(2)}`, cn[1]!, de[0]!];
    const data = await ok(VERIFY, { c: inputs }, null);
    expect(data.verifyMany.map((v: any) => [v.input, v.code, v.canonical])).toEqual([
      [messy, cn[1], cn[1]],
      ['CN-BAD', 'CN-BAD', null],
      [`ZZ${cn[1]!.slice(2)}`, `ZZ${cn[1]!.slice(2)}`, `ZZ${cn[1]!.slice(2)}`],
      [cn[1], cn[1], cn[1]],
      [de[0], de[0], de[0]],
    ]);
  });

  it('says which registry answered: home, partner, none for unknown or malformed, the one asked when it could not answer', async () => {
    const data = await ok(VERIFY, { c: [cn[0], de[0], `ZZ${cn[1]!.slice(2)}`, 'CN-BAD', down] }, null);
    expect(data.verifyMany.map((v: any) => [v.verdict, v.answeredBy])).toEqual([
      ['ADMIT', { country: 'CN', name: 'China registry' }],
      ['ADMIT', { country: 'DE', name: 'German registry' }],
      ['UNKNOWN', null],
      ['REFUSE', null],
      ['UNKNOWN', { country: 'FL', name: 'Failing registry' }],
    ]);
    expect(data.verifyMany[2].reasons).toEqual([{ code: 'UNKNOWN_COUNTRY', recalls: null, registry: null, enterprise: null, model: null, country: 'ZZ' }]);
    expect(data.verifyMany[4].reasons).toEqual([
      { code: 'REGISTRY_UNAVAILABLE', recalls: null, registry: { country: 'FL', name: 'Failing registry' }, enterprise: null, model: null, country: null },
    ]);
  });

  it('names the open recalls not yet remedied, the registry that does not know a code, the suspended maker and the withdrawn model', async () => {
    const unknown = `${model}${'9'.repeat(17)}`;
    const before = await ok(VERIFY, { c: [cn[0], cn[1], cn[4], unknown] }, null);
    const reasonsOf = (i: number) => before.verifyMany[i].reasons;
    // Unit 0 remedied R0001 and is outside R0002's range; unit 1 is under both; unit 4 under R0001 only.
    expect(reasonsOf(0)).toEqual([]);
    expect(reasonsOf(1)).toEqual([{ code: 'OPEN_RECALL', recalls: [`${model}R0001`, `${model}R0002`], registry: null, enterprise: null, model: null, country: null }]);
    expect(reasonsOf(2)).toEqual([{ code: 'OPEN_RECALL', recalls: [`${model}R0001`], registry: null, enterprise: null, model: null, country: null }]);
    expect(reasonsOf(3)).toEqual([{ code: 'NOT_REGISTERED', recalls: null, registry: { country: 'CN', name: 'China registry' }, enterprise: null, model: null, country: null }]);

    await ok(`mutation { setEnterpriseStatus(code: "CNVC01", status: SUSPENDED, reason: "Inspection") { code } }`);
    await ok(`mutation { setProductModelStatus(code: "${model}", status: WITHDRAWN, reason: "Certificate withdrawn") { code } }`);
    const after = await ok(VERIFY, { c: [cn[0]] }, null);
    expect(after.verifyMany[0].reasons).toEqual([
      { code: 'ENTERPRISE_SUSPENDED', recalls: null, registry: null, enterprise: 'CNVC01', model: null, country: null },
      { code: 'MODEL_WITHDRAWN', recalls: null, registry: null, enterprise: null, model, country: null },
    ]);
    await ok(`mutation { setEnterpriseStatus(code: "CNVC01", status: ACTIVE, reason: "Inspection passed") { code } }`);
    await ok(`mutation { setProductModelStatus(code: "${model}", status: ACTIVE, reason: "Certificate renewed") { code } }`);
  });

  it('looks up a recall campaign by its code, at home and at a partner, anonymously', async () => {
    const query = `query($c: ID!) { recall(code: $c) { code status openedAt closedAt defect model { code name } } }`;
    const open = await ok(query, { c: `${model.toLowerCase()}-r0001` }, null);
    expect(open.recall).toMatchObject({ code: `${model}R0001`, status: 'OPEN', closedAt: null, defect: 'D1', model: { code: model, name: `Model ${model}` } });
    const closed = await ok(query, { c: `${model}R0003` }, null);
    expect(closed.recall).toMatchObject({ code: `${model}R0003`, status: 'CLOSED', defect: 'D3' });
    expect(closed.recall.closedAt).toEqual(expect.any(String));
    expect((await ok(query, { c: `${model}R0099` }, null)).recall).toBeNull();

    const malformed = await fed.query(query, { c: 'CN-R1' }, null);
    expect(malformed.data?.recall).toBeNull();
    expect(malformed.errors?.[0]?.extensions?.code).toBe('MALFORMED_CODE');
    const unserved = await fed.query(query, { c: 'ZZVC01AAAAAAR0001' }, null);
    expect(unserved.errors?.[0]?.extensions).toMatchObject({ code: 'UNKNOWN_COUNTRY', country: 'ZZ' });
  });

  it('routes recall(code) and status history to the partner that owns the country', async () => {
    // The partner node writes its own campaigns (the gateway writes home only).
    await nodeQuery(fed.nodes[1]!, 'product-models', `mutation { openRecall(input: { model: "DEVC01BBBBBB", defect: "Arm", remedy: "Replace" }) { code } }`);
    const data = await ok(`{ recall(code: "DEVC01BBBBBBR0001") { code status defect model { name } } }`, undefined, null);
    expect(data.recall).toEqual({ code: 'DEVC01BBBBBBR0001', status: 'OPEN', defect: 'Arm', model: { name: 'Model DEVC01BBBBBB' } });
    // A partner running this software (contract 1.1) serves the status history of its own enterprises.
    const history = await ok(`{ enterprise(code: "DEVC01") { statusHistory { totalCount } } }`, undefined, ANALYST);
    expect(history.enterprise).toEqual({ statusHistory: { totalCount: 0 } });
  });

  it('lists an enterprise and a model status history as connections, oldest first, after suspend and reinstate', async () => {
    // The previous test suspended and reinstated CNVC01, withdrew and reinstated the model.
    const query = `query($e: ID!, $m: ID!, $first: Int, $after: String) {
      enterprise(code: $e) { status statusHistory(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { previousStatus status reason changedAt } } } }
      productModel(code: $m) { statusHistory { totalCount edges { node { previousStatus status reason } } } } }`;
    const first = await ok(query, { e: 'CNVC01', m: model, first: 1 }, ANALYST);
    const history = first.enterprise.statusHistory;
    expect(history.totalCount).toBe(2);
    expect(history.pageInfo.hasNextPage).toBe(true);
    expect(history.edges.map((e: any) => e.node)).toEqual([{ previousStatus: 'ACTIVE', status: 'SUSPENDED', reason: 'Inspection', changedAt: expect.any(String) }]);
    const next = await ok(query, { e: 'CNVC01', m: model, first: 1, after: history.pageInfo.endCursor }, ANALYST);
    expect(next.enterprise.statusHistory.edges.map((e: any) => e.node.status)).toEqual(['ACTIVE']);
    expect(next.enterprise.statusHistory.pageInfo).toEqual({ hasNextPage: false, endCursor: expect.any(String) });
    expect(first.productModel.statusHistory).toEqual({
      totalCount: 2,
      edges: [
        { node: { previousStatus: 'ACTIVE', status: 'WITHDRAWN', reason: 'Certificate withdrawn' } },
        { node: { previousStatus: 'WITHDRAWN', status: 'ACTIVE', reason: 'Certificate renewed' } },
      ],
    });
    const none = await ok(query, { e: 'CNVC01', m: model, first: 0 }, ANALYST);
    expect(none.enterprise.statusHistory).toEqual({ totalCount: 2, pageInfo: { hasNextPage: true, endCursor: null }, edges: [] });
    const bad = await fed.query(query, { e: 'CNVC01', m: model, first: 1, after: 'bm90LWEtY3Vyc29y' }, ANALYST);
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('pages provenance lists: first/after, the last page, first: 0', async () => {
    const unit = cn[3]!;
    const registeredAt = Date.parse((await ok(`{ unit(code: "${unit}") { registeredAt } }`)).unit.registeredAt);
    const at = (n: number) => new Date(registeredAt + n).toISOString();
    await ok(`mutation($e: [LifecycleEventInput!]!) { recordEvents(events: $e) { eventId } }`, {
      e: [
        { eventId: 'vc-p-1', unit, type: 'SOLD', occurredAt: at(1), owner: 'dealer:1' },
        { eventId: 'vc-p-2', unit, type: 'OWNERSHIP_TRANSFERRED', occurredAt: at(2), owner: 'owner:2' },
        { eventId: 'vc-p-3', unit, type: 'OWNERSHIP_TRANSFERRED', occurredAt: at(3), owner: 'owner:3' },
        { eventId: 'vc-p-4', unit, type: 'EXPORTED', occurredAt: at(4), country: 'DE' },
        { eventId: 'vc-p-5', unit, type: 'REPAIRED', occurredAt: at(5), note: 'arm' },
      ],
    });
    const query = `query($u: ID!, $first: Int, $after: String) { unit(code: $u) { provenance {
      owners { owner }
      pagedOwners(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { owner since until } } }
      pagedBorderCrossings { totalCount edges { node { direction country } } }
      pagedRepairs(first: 1) { totalCount edges { node { type note } } }
      pagedRemedies { totalCount edges { node { recall } } } } } }`;
    const page1 = (await ok(query, { u: unit, first: 2 })).unit.provenance;
    expect(page1.pagedOwners.totalCount).toBe(3);
    expect(page1.pagedOwners.edges.map((e: any) => e.node.owner)).toEqual(['dealer:1', 'owner:2']);
    expect(page1.pagedOwners.pageInfo.hasNextPage).toBe(true);
    expect(page1.pagedBorderCrossings).toEqual({ totalCount: 1, edges: [{ node: { direction: 'EXPORT', country: 'DE' } }] });
    expect(page1.pagedRepairs).toEqual({ totalCount: 1, edges: [{ node: { type: 'REPAIRED', note: 'arm' } }] });
    expect(page1.pagedRemedies).toEqual({ totalCount: 0, edges: [] });
    const last = (await ok(query, { u: unit, first: 2, after: page1.pagedOwners.pageInfo.endCursor })).unit.provenance;
    expect(last.pagedOwners.edges.map((e: any) => [e.node.owner, e.node.until])).toEqual([['owner:3', null]]);
    expect(last.pagedOwners.pageInfo.hasNextPage).toBe(false);
    const empty = (await ok(query, { u: unit, first: 0 })).unit.provenance;
    expect(empty.pagedOwners).toEqual({ totalCount: 3, pageInfo: { hasNextPage: true, endCursor: null }, edges: [] });
    // The whole lists still answer, in the same order.
    expect(empty.owners.map((o: any) => o.owner)).toEqual(['dealer:1', 'owner:2', 'owner:3']);
    // Owner references are withheld from customs in a page as in the list.
    const customs = (await ok(query, { u: unit, first: 1 }, CUSTOMS)).unit.provenance;
    expect(customs.pagedOwners.edges[0].node.owner).toBe('WITHHELD');
  });

  it('gives each new field to the roles the access policy names', async () => {
    const fields = `{ verify(code: "${cn[1]}") { input canonical answeredBy { country name } reasons { recalls registry { country } } }
      recall(code: "${model}R0001") { code status }
      enterprise(code: "CNVC01") { statusHistory { totalCount } }
      productModel(code: "${model}") { statusHistory { totalCount } }
      unit(code: "${cn[3]}") { provenance { pagedOwners { totalCount edges { node { owner } } } } } }`;
    const anonymous = await fed.query(fields, undefined, null);
    expect(anonymous.data?.verify).toMatchObject({ input: cn[1], canonical: cn[1], answeredBy: { country: 'CN', name: 'China registry' } });
    expect(anonymous.data?.recall).toEqual({ code: `${model}R0001`, status: 'OPEN' });
    expect(anonymous.data?.enterprise).toEqual({ statusHistory: null });
    expect(anonymous.data?.productModel).toEqual({ statusHistory: null });
    expect(anonymous.data?.unit).toBeNull();
    expect(new Set(anonymous.errors?.map((e) => e.extensions?.code))).toEqual(new Set(['UNAUTHENTICATED']));
    expect(anonymous.errors?.map((e) => e.path?.join('.')).sort()).toEqual(['enterprise.statusHistory', 'productModel.statusHistory', 'unit.provenance']);

    for (const as of [CUSTOMS, ANALYST, { subject: 'test-authority', role: 'authority' } as Caller]) {
      const result = await ok(fields, undefined, as);
      expect(result.enterprise.statusHistory.totalCount).toBe(2);
      expect(result.productModel.statusHistory.totalCount).toBe(2);
      expect(result.unit.provenance.pagedOwners.edges[0].node.owner).toBe(as!.role === 'authority' ? 'dealer:1' : 'WITHHELD');
    }
  });

  it('finds every 1.1 addition served by a node of this software: conforming, no notes', async () => {
    for (const subgraph of ['enterprises', 'product-models', 'units', 'lifecycle'] as const) {
      const report = await checkEndpoint(subgraph, fed.nodes[1]!.urls[subgraph]!, 'DE', {}, TEST_SIGNING);
      expect(report, subgraph).toMatchObject({ problems: [], notes: [] });
    }
  });

  it('keeps a customs officer\'s recall lookup in the audit log, with the code asked', async () => {
    await ok(`{ recall(code: "${model}R0002") { code } }`, undefined, CUSTOMS);
    await fed.gateway.flushAudit();
    const log = await ok(`{ auditLog(first: 5, filter: { role: "customs", code: "${model}R0002" }) { edges { node { fields codes outcome } } } }`);
    expect(log.auditLog.edges.map((e: any) => e.node)).toEqual([{ fields: ['recall'], codes: [`${model}R0002`], outcome: expect.any(String) }]);
  });

  it('costs a constant number of statements per subgraph for 1 or 100 codes with every new field', async () => {
    const codes = (n: number) => Array.from({ length: n }, (_, i) => (i < cn.length ? cn[i]! : `${model}${serial(900 + i)}`));
    const query = `query($c: [String!]!, $u: [ID!]!) {
      verifyMany(codes: $c) { input canonical verdict answeredBy { name } reasons { code recalls registry { name } enterprise model } }
      units(codes: $u) { model { statusHistory(first: 2) { totalCount } } enterprise { statusHistory(first: 2) { totalCount } }
        provenance { pagedOwners(first: 1) { totalCount } pagedRepairs { totalCount } } } }`;
    const count = async (n: number) => {
      await fed.gateway.flushAudit(); // earlier writes' audit entries are not this query's statements
      const statements: StatementEvent[] = [];
      const unsubscribe = fed.databases[0]!.onStatement((event) => statements.push(event));
      try {
        await ok(query, { c: codes(n), u: codes(n) });
        await fed.gateway.flushAudit();
      } finally {
        unsubscribe();
      }
      const bySchema: Record<string, number> = {};
      for (const s of statements) bySchema[s.schema] = (bySchema[s.schema] ?? 0) + 1;
      return bySchema;
    };
    const one = await count(1);
    expect(await count(100)).toEqual(one);
    expect(one.enterprises).toBeLessThanOrEqual(3);
    expect(one.product_models).toBeLessThanOrEqual(3);
  });
});

describe('contract versions in the conformance check', () => {
  const contract = (name: 'enterprises' | 'lifecycle') => loadSdl(name);

  it('accepts a 1.0 subgraph without the 1.1 fields, with a note naming them', () => {
    const old = contract('enterprises').replace(/\n  """\n  The authority's decisions[\s\S]*?statusHistory\(first: Int = 50, after: String\): EnterpriseStatusChangeConnection\n/, '\n');
    expect(old).not.toContain('statusHistory(');
    expect(sdlProblems('enterprises', old)).toEqual([]);
    expect(sdlNotes('enterprises', old)).toEqual([expect.stringContaining('1.1 additions Enterprise.statusHistory')]);
    expect(sdlNotes('enterprises', contract('enterprises'))).toEqual([]);
  });

  it('checks a 1.1 field when it is served: the wrong type is a problem', () => {
    const wrong = contract('lifecycle').replace('pagedOwners(first: Int = 50, after: String): OwnershipConnection', 'pagedOwners(first: Int = 50, after: String): [Ownership]');
    expect(sdlProblems('lifecycle', wrong)).toEqual([expect.stringContaining('Provenance.pagedOwners')]);
  });

  it('still requires every 1.0 field', () => {
    const missing = contract('lifecycle').replace(/\n  "RECALL_REMEDIED events, oldest first."\n  remedies: \[LifecycleEvent!\]!/, '');
    expect(missing).not.toContain('remedies: [');
    expect(sdlProblems('lifecycle', missing)).toEqual([expect.stringContaining('Provenance.remedies')]);
  });
});
