import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTHORITY, startFederation, type Caller, type Federation, type GraphQLResponse } from './support/federation.js';

/**
 * Who may do what, walked cell by cell through a real federation: every caller below against every
 * operation, on whichever database the suite runs on. The table is the specification (README "Who may do
 * what"); each cell is one test that checks the answer a caller would see, and for a refused write that
 * not one row of any registry table changed.
 *
 *   ok        allowed: the answer is right, and a write took effect
 *   unauth    refused with UNAUTHENTICATED naming the roles it needs
 *   forbid    refused with FORBIDDEN naming the roles it needs, or for a manufacturer the foreign code
 *   withheld  answered, but every owner reference reads "WITHHELD"
 *
 * Columns: anonymous (no token), authority, manufacturers of CNA1B2 and CNZZZZ, customs and partner of
 * DE, analyst, and a token that carries no role.
 */
const MATRIX = `
operation                                  anonymous authority makerA  makerZ  customs  partner  analyst  noRole
parseCode                                  ok        ok        ok      ok      ok       ok       ok       ok
registries                                 ok        ok        ok      ok      ok       ok       ok       ok
verify (and its unit's state)              ok        ok        ok      ok      ok       ok       ok       ok
verifyMany                                 ok        ok        ok      ok      ok       ok       ok       ok
unit by code: public fields                ok        ok        ok      ok      ok       ok       ok       ok
units by codes: public fields              ok        ok        ok      ok      ok       ok       ok       ok
productModel by code: public fields        ok        ok        ok      ok      ok       ok       ok       ok
enterprise by code: public fields          ok        ok        ok      ok      ok       ok       ok       ok
recall notices of a model and a unit       ok        ok        ok      ok      ok       ok       ok       ok
Registry.enterprises                       unauth    ok        ok      ok      ok       ok       ok       unauth
Registry.productModels                     unauth    ok        ok      ok      ok       ok       ok       unauth
Registry.units                             unauth    ok        ok      ok      ok       ok       ok       unauth
Registry.unitsInState                      unauth    ok        ok      ok      ok       ok       ok       unauth
Registry.events                            unauth    ok        ok      ok      ok       ok       ok       unauth
ProductModel.units                         unauth    ok        ok      ok      ok       ok       ok       unauth
Enterprise.productModels                   unauth    ok        ok      ok      ok       ok       ok       unauth
Registry.unitCount                         unauth    ok        ok      ok      ok       ok       ok       unauth
Registry.unitsByModel                      unauth    ok        ok      ok      ok       ok       ok       unauth
Registry.unitsByState                      unauth    ok        ok      ok      ok       ok       ok       unauth
Registry.eventsPerMonth                    unauth    ok        ok      ok      ok       ok       ok       unauth
ProductModel.unitCount                     unauth    ok        ok      ok      ok       ok       ok       unauth
Enterprise.unitCount                       unauth    ok        ok      ok      ok       ok       ok       unauth
Unit.events with details                   unauth    ok        ok      ok      ok       ok       ok       unauth
Unit.provenance                            unauth    ok        ok      ok      ok       ok       ok       unauth
Ownership.owner of a CNA1B2 unit           unauth    ok        ok      withheld withheld withheld withheld unauth
Ownership.owner of a CNZZZZ unit           unauth    ok        withheld ok     withheld withheld withheld unauth
LifecycleEvent.owner via Unit.events       unauth    ok        ok      withheld withheld withheld withheld unauth
LifecycleEvent.owner via Registry.events A unauth    ok        ok      withheld withheld withheld withheld unauth
LifecycleEvent.owner via Registry.events Z unauth    ok        withheld ok     withheld withheld withheld unauth
LifecycleEvent.recordedBy of a CNA1B2 unit unauth    ok        ok      withheld withheld withheld withheld unauth
LifecycleEvent.recordedBy of a CNZZZZ unit unauth    ok        withheld ok     withheld withheld withheld unauth
auditLog                                   unauth    ok        forbid  forbid  forbid   forbid   forbid   unauth
registerEnterprise                         unauth    ok        forbid  forbid  forbid   forbid   forbid   unauth
registerProductModel under CNA1B2          unauth    ok        ok      forbid  forbid   forbid   forbid   unauth
registerProductModel under CNZZZZ          unauth    ok        forbid  ok      forbid   forbid   forbid   unauth
registerUnits under CNA1B2                 unauth    ok        ok      forbid  forbid   forbid   forbid   unauth
registerUnits under CNZZZZ                 unauth    ok        forbid  ok      forbid   forbid   forbid   unauth
recordEvents under CNA1B2                  unauth    ok        ok      forbid  forbid   forbid   forbid   unauth
recordEvents under CNZZZZ                  unauth    ok        forbid  ok      forbid   forbid   forbid   unauth
recordEvents under both                    unauth    ok        forbid  forbid  forbid   forbid   forbid   unauth
openRecall under CNA1B2                    unauth    ok        ok      forbid  forbid   forbid   forbid   unauth
openRecall under CNZZZZ                    unauth    ok        forbid  ok      forbid   forbid   forbid   unauth
closeRecall under CNA1B2                   unauth    ok        forbid  forbid  forbid   forbid   forbid   unauth
closeRecall under CNZZZZ                   unauth    ok        forbid  forbid  forbid   forbid   forbid   unauth
setProductModelStatus under CNA1B2         unauth    ok        forbid  forbid  forbid   forbid   forbid   unauth
setProductModelStatus under CNZZZZ         unauth    ok        forbid  forbid  forbid   forbid   forbid   unauth
setEnterpriseStatus of CNA1B2              unauth    ok        forbid  forbid  forbid   forbid   forbid   unauth
setEnterpriseStatus of CNZZZZ              unauth    ok        forbid  forbid  forbid   forbid   forbid   unauth
`;

const CALLERS: Record<string, Caller> = {
  anonymous: null,
  authority: AUTHORITY,
  makerA: { subject: 'maker-a', role: 'manufacturer', enterprise: 'CNA1B2' },
  makerZ: { subject: 'maker-z', role: 'manufacturer', enterprise: 'CNZZZZ' },
  customs: { subject: 'customs-de', role: 'customs', country: 'DE' },
  partner: { subject: 'partner-de', role: 'partner', country: 'DE' },
  analyst: { subject: 'analyst', role: 'analyst' },
  noRole: { subject: 'no-role' },
};

type Outcome = 'ok' | 'unauth' | 'forbid' | 'withheld';
const CODE_OF = { unauth: 'UNAUTHENTICATED', forbid: 'FORBIDDEN' } as const;

const rows = MATRIX.trim().split('\n').slice(1).map((line) => {
  const cells = line.trim().split(/\s+/);
  const n = Object.keys(CALLERS).length;
  return { operation: cells.slice(0, -n).join(' '), outcomes: cells.slice(-n) as Outcome[] };
});

// The world the matrix is walked in, seeded by the authority through the gateway.
const A = 'CNA1B2';
const Z = 'CNZZZZ';
const MODEL_A = 'CNA1B2HX0001';
const MODEL_Z = 'CNZZZZRB0001';
const RECALL_MODEL_A = 'CNA1B2RC0001';
const RECALL_MODEL_Z = 'CNZZZZRC0001';
const OWNER_A = 'cust:a-0001';
const OWNER_Z = 'cust:z-0001';
const SCHEMAS = ['enterprises', 'product_models', 'units', 'lifecycle'];

interface World {
  unitsA: string[];
  unitsZ: string[];
  recallA: string;
  recallZ: string;
}

/** A read: its document, what the caller gets (null when refused) and what an allowed caller must see. */
interface Read {
  kind: 'read';
  /** The guarded field a refusal must name. */
  guard?: string;
  query: (w: World) => { query: string; variables?: Record<string, unknown> };
  pick: (data: any) => unknown;
  /** For ok: the value is right. For owner rows, pick returns the owner references (all WITHHELD when withheld). */
  check: (value: any, w: World) => void;
}

/** A write: its document for a caller (fresh codes per caller), the code a refused manufacturer must be told about, and its effect. */
interface Write {
  kind: 'write';
  guard: string;
  /** The code (or its start) that a manufacturer refused for being outside its enterprise is told about. */
  target?: string | ((w: World, who: string) => string);
  mutation: (w: World, who: string) => { query: string; variables?: Record<string, unknown> };
  /** Reads back as the authority that the write took effect. */
  effect: (data: any, w: World, who: string) => Promise<void>;
}

let fed: Federation;
const asAuthority = async (query: string, variables?: Record<string, unknown>) => {
  const result = await fed.query(query, variables);
  expect(result.errors, query).toBeUndefined();
  return result.data;
};
const tag = (who: string) => Object.keys(CALLERS).indexOf(who);
const codesOf = (connection: { edges: { node: { code: string } }[] }) => connection.edges.map((e) => e.node.code);

const registry = (selection: string): Read['query'] => () => ({ query: `{ registry(country: "CN") { country ${selection} } }` });

const OPERATIONS: Record<string, Read | Write> = {
  parseCode: {
    kind: 'read',
    query: (w) => ({ query: `query($c: String!) { parseCode(code: $c) { valid canonical } }`, variables: { c: w.unitsA[0]!.toLowerCase() } }),
    pick: (d) => d?.parseCode,
    check: (v, w) => expect(v).toEqual({ valid: true, canonical: w.unitsA[0] }),
  },
  registries: {
    kind: 'read',
    query: () => ({ query: `{ registries { country home } }` }),
    pick: (d) => d?.registries,
    check: (v) => expect(v).toEqual([{ country: 'CN', home: true }]),
  },
  'verify (and its unit\'s state)': {
    kind: 'read',
    query: (w) => ({ query: `query($c: String!) { verify(code: $c) { verdict unit { code state } } }`, variables: { c: w.unitsA[0] } }),
    pick: (d) => d?.verify,
    check: (v, w) => expect(v).toEqual({ verdict: 'ADMIT', unit: { code: w.unitsA[0], state: 'IN_SERVICE' } }),
  },
  verifyMany: {
    kind: 'read',
    query: (w) => ({ query: `query($c: [String!]!) { verifyMany(codes: $c) { code verdict } }`, variables: { c: [w.unitsA[0], w.unitsZ[0], 'CNA1B2HX0001XXXXXXXXXXXXXXXXX'] } }),
    pick: (d) => d?.verifyMany,
    check: (v, w) =>
      expect(v).toEqual([
        { code: w.unitsA[0], verdict: 'ADMIT' },
        { code: w.unitsZ[0], verdict: 'ADMIT' },
        { code: 'CNA1B2HX0001XXXXXXXXXXXXXXXXX', verdict: 'REFUSE' },
      ]),
  },
  'unit by code: public fields': {
    kind: 'read',
    query: (w) => ({ query: `query($c: ID!) { unit(code: $c) { code state model { name status } enterprise { name status } } }`, variables: { c: w.unitsA[0] } }),
    pick: (d) => d?.unit,
    check: (v, w) => expect(v).toEqual({ code: w.unitsA[0], state: 'IN_SERVICE', model: { name: 'Helper X', status: 'ACTIVE' }, enterprise: { name: 'A1 Robotics', status: 'ACTIVE' } }),
  },
  'units by codes: public fields': {
    kind: 'read',
    query: (w) => ({ query: `query($c: [ID!]!) { units(codes: $c) { code state model { code } } }`, variables: { c: [w.unitsZ[0], w.unitsA[2]] } }),
    pick: (d) => d?.units,
    check: (v, w) => expect(v).toEqual([
      { code: w.unitsZ[0], state: 'IN_SERVICE', model: { code: MODEL_Z } },
      { code: w.unitsA[2], state: 'REGISTERED', model: { code: MODEL_A } },
    ]),
  },
  'productModel by code: public fields': {
    kind: 'read',
    query: () => ({ query: `query($c: ID!) { productModel(code: $c) { code name category status enterprise { code name status } } }`, variables: { c: MODEL_Z } }),
    pick: (d) => d?.productModel,
    check: (v) => expect(v).toEqual({ code: MODEL_Z, name: 'Zed One', category: 'quadruped', status: 'ACTIVE', enterprise: { code: Z, name: 'Zed Machines', status: 'ACTIVE' } }),
  },
  'enterprise by code: public fields': {
    kind: 'read',
    query: () => ({ query: `{ enterprise(code: "cn-a1b2") { code country name status } }` }),
    pick: (d) => d?.enterprise,
    check: (v) => expect(v).toEqual({ code: A, country: 'CN', name: 'A1 Robotics', status: 'ACTIVE' }),
  },
  'recall notices of a model and a unit': {
    kind: 'read',
    query: (w) => ({ query: `query($m: ID!, $u: ID!) { productModel(code: $m) { recalls { code defect } } unit(code: $u) { openRecalls { code } } }`, variables: { m: RECALL_MODEL_A, u: w.unitsA.at(-1) } }),
    pick: (d) => d && { model: d.productModel?.recalls?.[0], unit: d.unit?.openRecalls },
    check: (v, w) => expect(v).toEqual({ model: { code: w.recallA, defect: 'Loose arm joint' }, unit: [{ code: w.recallA }] }),
  },
  'Registry.enterprises': {
    kind: 'read',
    guard: 'Registry.enterprises',
    query: registry(`enterprises { edges { node { code } } }`),
    pick: (d) => d?.registry?.enterprises,
    check: (v) => expect(codesOf(v)).toEqual(expect.arrayContaining([A, Z])),
  },
  'Registry.productModels': {
    kind: 'read',
    guard: 'Registry.productModels',
    query: registry(`productModels { edges { node { code } } }`),
    pick: (d) => d?.registry?.productModels,
    check: (v) => expect(codesOf(v)).toEqual(expect.arrayContaining([MODEL_A, MODEL_Z, RECALL_MODEL_A, RECALL_MODEL_Z])),
  },
  'Registry.units': {
    kind: 'read',
    guard: 'Registry.units',
    query: registry(`units(first: 100) { edges { node { code } } }`),
    pick: (d) => d?.registry?.units,
    check: (v, w) => expect(codesOf(v)).toEqual(expect.arrayContaining([...w.unitsA, ...w.unitsZ])),
  },
  'Registry.unitsInState': {
    kind: 'read',
    guard: 'Registry.unitsInState',
    query: registry(`unitsInState(state: IN_SERVICE) { edges { node { code } } }`),
    pick: (d) => d?.registry?.unitsInState,
    check: (v, w) => expect(codesOf(v)).toEqual(expect.arrayContaining([w.unitsA[0], w.unitsZ[0]])),
  },
  'Registry.events': {
    kind: 'read',
    guard: 'Registry.events',
    query: registry(`events(first: 100, filter: { types: [EXPORTED] }) { edges { node { eventId country unit { code } } } }`),
    pick: (d) => d?.registry?.events,
    check: (v, w) => expect(v.edges.map((e: any) => e.node)).toContainEqual({ eventId: 'a0-export', country: 'DE', unit: { code: w.unitsA[0] } }),
  },
  'ProductModel.units': {
    kind: 'read',
    guard: 'ProductModel.units',
    query: () => ({ query: `{ productModel(code: "${MODEL_Z}") { units { edges { node { code } } } } }` }),
    pick: (d) => d?.productModel?.units,
    check: (v, w) => expect(codesOf(v).sort()).toEqual(w.unitsZ.filter((u) => u.startsWith(MODEL_Z)).sort()),
  },
  'Enterprise.productModels': {
    kind: 'read',
    guard: 'Enterprise.productModels',
    query: () => ({ query: `{ enterprise(code: "${A}") { productModels { edges { node { code } } } } }` }),
    pick: (d) => d?.enterprise?.productModels,
    check: (v) => expect(codesOf(v)).toEqual(expect.arrayContaining([MODEL_A, RECALL_MODEL_A])),
  },
  'Registry.unitCount': {
    kind: 'read',
    guard: 'Registry.unitCount',
    query: registry(`unitCount`),
    pick: (d) => d?.registry?.unitCount,
    check: (v, w) => expect(v).toBeGreaterThanOrEqual(w.unitsA.length + w.unitsZ.length),
  },
  'Registry.unitsByModel': {
    kind: 'read',
    guard: 'Registry.unitsByModel',
    query: registry(`unitsByModel { model { code } count }`),
    pick: (d) => d?.registry?.unitsByModel,
    check: (v) => expect(v.map((m: any) => m.model.code)).toEqual(expect.arrayContaining([MODEL_A, MODEL_Z])),
  },
  'Registry.unitsByState': {
    kind: 'read',
    guard: 'Registry.unitsByState',
    query: registry(`unitsByState { state count }`),
    pick: (d) => d?.registry?.unitsByState,
    check: (v) => expect(v.find((s: any) => s.state === 'IN_SERVICE')?.count).toBeGreaterThanOrEqual(2),
  },
  'Registry.eventsPerMonth': {
    kind: 'read',
    guard: 'Registry.eventsPerMonth',
    query: registry(`eventsPerMonth(from: "2026-01-01T00:00:00Z", before: "2026-04-01T00:00:00Z") { month count }`),
    pick: (d) => d?.registry?.eventsPerMonth,
    check: (v) => expect(v.map((m: any) => m.month)).toEqual(expect.arrayContaining(['2026-01', '2026-02'])),
  },
  'ProductModel.unitCount': {
    kind: 'read',
    guard: 'ProductModel.unitCount',
    query: () => ({ query: `{ productModel(code: "${MODEL_Z}") { unitCount } }` }),
    pick: (d) => d?.productModel?.unitCount,
    check: (v, w) => expect(v).toBe(w.unitsZ.filter((u) => u.startsWith(MODEL_Z)).length),
  },
  'Enterprise.unitCount': {
    kind: 'read',
    guard: 'Enterprise.unitCount',
    query: () => ({ query: `{ enterprise(code: "${A}") { unitCount } }` }),
    pick: (d) => d?.enterprise?.unitCount,
    check: (v, w) => expect(v).toBeGreaterThanOrEqual(w.unitsA.length),
  },
  'Unit.events with details': {
    kind: 'read',
    guard: 'Unit.events',
    query: (w) => ({ query: `query($c: ID!) { unit(code: $c) { events(filter: { types: [EXPORTED, REPAIRED] }) { edges { node { eventId type country note stateAfter } } } } }`, variables: { c: w.unitsA[0] } }),
    pick: (d) => d?.unit?.events,
    check: (v) =>
      expect(v.edges.map((e: any) => e.node)).toEqual([
        { eventId: 'a0-export', type: 'EXPORTED', country: 'DE', note: null, stateAfter: 'IN_TRANSIT' },
        { eventId: 'a0-repair', type: 'REPAIRED', country: null, note: 'new gripper', stateAfter: 'IN_SERVICE' },
      ]),
  },
  'Unit.provenance': {
    kind: 'read',
    guard: 'Unit.provenance',
    query: (w) => ({ query: `query($c: ID!) { unit(code: $c) { provenance { owners { eventId until } borderCrossings { direction country } repairs { eventId } } } }`, variables: { c: w.unitsA[0] } }),
    pick: (d) => d?.unit?.provenance,
    check: (v) => expect(v).toEqual({ owners: [{ eventId: 'a0-sold', until: null }], borderCrossings: [{ direction: 'EXPORT', country: 'DE' }, { direction: 'IMPORT', country: 'CN' }], repairs: [{ eventId: 'a0-repair' }] }),
  },
  'Ownership.owner of a CNA1B2 unit': {
    kind: 'read',
    guard: 'Unit.provenance',
    query: (w) => ({ query: `query($c: ID!) { unit(code: $c) { provenance { owners { owner } } } }`, variables: { c: w.unitsA[0] } }),
    pick: (d) => d?.unit?.provenance.owners.map((o: any) => o.owner),
    check: (v) => expect(v).toEqual([OWNER_A]),
  },
  'Ownership.owner of a CNZZZZ unit': {
    kind: 'read',
    guard: 'Unit.provenance',
    query: (w) => ({ query: `query($c: ID!) { unit(code: $c) { provenance { owners { owner } } } }`, variables: { c: w.unitsZ[0] } }),
    pick: (d) => d?.unit?.provenance.owners.map((o: any) => o.owner),
    check: (v) => expect(v).toEqual([OWNER_Z]),
  },
  'LifecycleEvent.owner via Unit.events': {
    kind: 'read',
    guard: 'Unit.events',
    query: (w) => ({ query: `query($c: ID!) { unit(code: $c) { events(filter: { types: [SOLD] }) { edges { node { owner } } } } }`, variables: { c: w.unitsA[0] } }),
    pick: (d) => d?.unit?.events.edges.map((e: any) => e.node.owner),
    check: (v) => expect(v).toEqual([OWNER_A]),
  },
  'LifecycleEvent.owner via Registry.events A': {
    kind: 'read',
    guard: 'Registry.events',
    query: registry(`events(first: 100, filter: { types: [SOLD] }) { edges { node { owner unit { code } } } }`),
    pick: (d) => d?.registry?.events?.edges.filter((e: any) => e.node.unit.code.startsWith(A)).map((e: any) => e.node.owner),
    check: (v) => expect(v).toEqual([OWNER_A]),
  },
  'LifecycleEvent.owner via Registry.events Z': {
    kind: 'read',
    guard: 'Registry.events',
    query: registry(`events(first: 100, filter: { types: [SOLD] }) { edges { node { owner unit { code } } } }`),
    pick: (d) => d?.registry?.events?.edges.filter((e: any) => e.node.unit.code.startsWith(Z)).map((e: any) => e.node.owner),
    check: (v) => expect(v).toEqual([OWNER_Z]),
  },
  ...Object.fromEntries(
    (['A', 'Z'] as const).map((side) => [
      `LifecycleEvent.recordedBy of a ${side === 'A' ? A : Z} unit`,
      {
        kind: 'read',
        guard: 'Unit.events',
        query: (w: World) => ({ query: `query($c: ID!) { unit(code: $c) { events(filter: { types: [MANUFACTURED] }) { edges { node { recordedBy } } } } }`, variables: { c: w[`units${side}`][0] } }),
        pick: (d: any) => d?.unit?.events.edges.map((e: any) => e.node.recordedBy),
        // The seed was recorded by the authority's token.
        check: (v: unknown) => expect(v).toEqual([AUTHORITY!.subject]),
      } satisfies Read,
    ]),
  ),
  auditLog: {
    kind: 'read',
    guard: 'Query.auditLog',
    query: () => ({ query: `{ auditLog(first: 500) { totalCount edges { node { fields outcome } } } }` }),
    pick: (d) => d?.auditLog,
    // The seeding writes are the authority's, so the log has entries for them.
    check: (v) => expect(v.edges.map((e: any) => e.node.fields).flat()).toContain('registerUnits'),
  },

  registerEnterprise: {
    kind: 'write',
    guard: 'Mutation.registerEnterprise',
    mutation: (_, who) => ({ query: `mutation($c: ID!) { registerEnterprise(input: { code: $c, name: "New" }) { code } }`, variables: { c: `CNNE0${tag(who)}` } }),
    effect: async (_, __, who) => expect(await asAuthority(`{ enterprise(code: "CNNE0${tag(who)}") { name } }`)).toEqual({ enterprise: { name: 'New' } }),
  },
  ...Object.fromEntries(
    (
      [
        { enterprise: A, model: MODEL_A, recallModel: RECALL_MODEL_A, units: 'unitsA', recall: 'recallA' },
        { enterprise: Z, model: MODEL_Z, recallModel: RECALL_MODEL_Z, units: 'unitsZ', recall: 'recallZ' },
      ] as const
    ).flatMap(({ enterprise, model, recallModel, units, recall }) => {
      const under = (verb: string) => `${verb} under ${enterprise}`;
      const ops: [string, Write][] = [
        [under('registerProductModel'), {
          kind: 'write',
          guard: 'Mutation.registerProductModel',
          target: `${enterprise}NM000`,
          mutation: (_, who) => ({ query: `mutation($c: ID!) { registerProductModel(input: { code: $c, name: "N", category: "arm" }) { code } }`, variables: { c: `${enterprise}NM000${tag(who)}` } }),
          effect: async (_, __, who) => expect(await asAuthority(`{ productModel(code: "${enterprise}NM000${tag(who)}") { name enterprise { code } } }`)).toEqual({ productModel: { name: 'N', enterprise: { code: enterprise } } }),
        }],
        [under('registerUnits'), {
          kind: 'write',
          guard: 'Mutation.registerUnits',
          target: model,
          mutation: (_, who) => ({ query: `mutation($m: ID!, $s: [String!]) { registerUnits(input: { model: $m, serials: $s }) { code } }`, variables: { m: model, s: [`NEWUNIT${tag(who)}`.padEnd(17, '0')] } }),
          effect: async (data) => {
            const code = data.registerUnits[0].code;
            expect(await asAuthority(`query($c: ID!) { unit(code: $c) { model { code } state } }`, { c: code })).toEqual({ unit: { model: { code: model }, state: 'REGISTERED' } });
          },
        }],
        [under('recordEvents'), {
          kind: 'write',
          guard: 'Mutation.recordEvents',
          target: enterprise,
          mutation: (w, who) => ({
            query: `mutation($e: [LifecycleEventInput!]!) { recordEvents(events: $e) { eventId owner } }`,
            variables: { e: [{ eventId: `transfer-${enterprise}-${who}`, unit: w[units][1], type: 'OWNERSHIP_TRANSFERRED', occurredAt: '2026-05-01T00:00:00Z', owner: `lease:${who}` }] },
          }),
          // The writer reads back the owner it wrote (it may: it is the authority or the unit's maker).
          effect: async (data, w, who) => {
            expect(data.recordEvents).toEqual([{ eventId: `transfer-${enterprise}-${who}`, owner: `lease:${who}` }]);
            const read = await asAuthority(`query($c: ID!) { unit(code: $c) { provenance { owners { owner until } } } }`, { c: w[units][1] });
            expect(read.unit.provenance.owners).toContainEqual({ owner: `lease:${who}`, until: null });
          },
        }],
        [under('openRecall'), {
          kind: 'write',
          guard: 'Mutation.openRecall',
          target: recallModel,
          mutation: (_, who) => ({ query: `mutation($m: ID!, $d: String!) { openRecall(input: { model: $m, defect: $d, remedy: "Replace" }) { code } }`, variables: { m: recallModel, d: `defect by ${who}` } }),
          effect: async (data, _, who) => {
            const read = await asAuthority(`{ productModel(code: "${recallModel}") { recalls { code defect closedAt } } }`);
            expect(read.productModel.recalls).toContainEqual({ code: data.openRecall.code, defect: `defect by ${who}`, closedAt: null });
          },
        }],
        [under('closeRecall'), {
          kind: 'write',
          guard: 'Mutation.closeRecall',
          mutation: (w) => ({ query: `mutation($c: ID!) { closeRecall(code: $c) { code closedAt } }`, variables: { c: w[recall] } }),
          effect: async (_, w) => {
            const read = await asAuthority(`query($c: ID!) { unit(code: $c) { openRecalls { code } } }`, { c: w[units].at(-1) });
            expect(read.unit.openRecalls.map((r: any) => r.code)).not.toContain(w[recall]);
          },
        }],
        [under('setProductModelStatus'), {
          kind: 'write',
          guard: 'Mutation.setProductModelStatus',
          mutation: () => ({ query: `mutation($c: ID!) { setProductModelStatus(code: $c, status: WITHDRAWN, reason: "test") { status } }`, variables: { c: model } }),
          effect: async () => {
            expect(await asAuthority(`{ productModel(code: "${model}") { status } }`)).toEqual({ productModel: { status: 'WITHDRAWN' } });
            await asAuthority(`mutation { setProductModelStatus(code: "${model}", status: ACTIVE, reason: "restored") { status } }`);
          },
        }],
        [`setEnterpriseStatus of ${enterprise}`, {
          kind: 'write',
          guard: 'Mutation.setEnterpriseStatus',
          mutation: () => ({ query: `mutation($c: ID!) { setEnterpriseStatus(code: $c, status: SUSPENDED, reason: "test") { status } }`, variables: { c: enterprise } }),
          effect: async () => {
            expect(await asAuthority(`{ enterprise(code: "${enterprise}") { status } }`)).toEqual({ enterprise: { status: 'SUSPENDED' } });
            await asAuthority(`mutation { setEnterpriseStatus(code: "${enterprise}", status: ACTIVE, reason: "restored") { status } }`);
          },
        }],
      ];
      return ops;
    }),
  ),
  'recordEvents under both': {
    kind: 'write',
    guard: 'Mutation.recordEvents',
    // A manufacturer is told about the first unit that is not its own.
    target: (w, who) => (who === 'makerA' ? w.unitsZ[1]! : w.unitsA[1]!),
    mutation: (w, who) => ({
      query: `mutation($e: [LifecycleEventInput!]!) { recordEvents(events: $e) { eventId } }`,
      variables: {
        e: [w.unitsA[1], w.unitsZ[1]].map((unit, i) => ({ eventId: `both-${who}-${i}`, unit, type: 'MAINTAINED', occurredAt: '2026-05-02T00:00:00Z' })),
      },
    }),
    effect: async (data, _, who) => expect(data.recordEvents).toEqual([{ eventId: `both-${who}-0` }, { eventId: `both-${who}-1` }]),
  },
};

/** Every table of every registry schema: row count and a digest of its content. */
async function snapshot(): Promise<Record<string, string>> {
  const db = fed.databases[0]!.forSchema<any>('public');
  const tables = await sql<{ schema: string; name: string }>`
    select table_schema as schema, table_name as name from information_schema.tables
    where table_schema in (${sql.join(SCHEMAS)}) and table_type = 'BASE TABLE' order by 1, 2`.execute(db);
  const state: Record<string, string> = {};
  for (const { schema, name } of tables.rows) {
    const table = sql.table(`${schema}.${name}`);
    const { rows } = await sql<{ n: number | string; digest: string | null }>`select count(*) as n, md5(string_agg(t::text, '|' order by t::text)) as digest from ${table} t`.execute(db);
    state[`${schema}.${name}`] = `${rows[0]!.n} rows, ${rows[0]!.digest}`;
  }
  await db.destroy();
  return state;
}

async function seed(): Promise<World> {
  await asAuthority(`mutation {
    a: registerEnterprise(input: { code: "${A}", name: "A1 Robotics" }) { code }
    z: registerEnterprise(input: { code: "${Z}", name: "Zed Machines" }) { code }
  }`);
  await asAuthority(`mutation {
    a: registerProductModel(input: { code: "${MODEL_A}", name: "Helper X", category: "humanoid" }) { code }
    ar: registerProductModel(input: { code: "${RECALL_MODEL_A}", name: "Recall A", category: "arm" }) { code }
    z: registerProductModel(input: { code: "${MODEL_Z}", name: "Zed One", category: "quadruped" }) { code }
    zr: registerProductModel(input: { code: "${RECALL_MODEL_Z}", name: "Recall Z", category: "arm" }) { code }
  }`);
  const units = await asAuthority(`mutation {
    a: registerUnits(input: { model: "${MODEL_A}", count: 3 }) { code }
    ar: registerUnits(input: { model: "${RECALL_MODEL_A}", count: 1 }) { code }
    z: registerUnits(input: { model: "${MODEL_Z}", count: 2 }) { code }
    zr: registerUnits(input: { model: "${RECALL_MODEL_Z}", count: 1 }) { code }
  }`);
  const unitsA = [...units.a, ...units.ar].map((u: { code: string }) => u.code);
  const unitsZ = [...units.z, ...units.zr].map((u: { code: string }) => u.code);
  const event = (eventId: string, unit: string | undefined, type: string, day: string, extra: Record<string, string> = {}) => ({ eventId, unit, type, occurredAt: `2026-${day}T10:00:00Z`, ...extra });
  await asAuthority(`mutation($e: [LifecycleEventInput!]!) { recordEvents(events: $e) { eventId } }`, {
    e: [
      event('a0-made', unitsA[0], 'MANUFACTURED', '01-05'),
      event('a0-sold', unitsA[0], 'SOLD', '01-20', { owner: OWNER_A }),
      event('a0-export', unitsA[0], 'EXPORTED', '02-01', { country: 'DE' }),
      event('a0-import', unitsA[0], 'IMPORTED', '02-03', { country: 'CN' }),
      event('a0-deploy', unitsA[0], 'DEPLOYED', '02-10'),
      event('a0-repair', unitsA[0], 'REPAIRED', '03-01', { note: 'new gripper' }),
      event('a1-made', unitsA[1], 'MANUFACTURED', '01-06'),
      event('z0-made', unitsZ[0], 'MANUFACTURED', '01-07'),
      event('z0-sold', unitsZ[0], 'SOLD', '02-15', { owner: OWNER_Z }),
      event('z0-deploy', unitsZ[0], 'DEPLOYED', '02-16'),
      event('z1-made', unitsZ[1], 'MANUFACTURED', '01-08'),
    ],
  });
  const recalls = await asAuthority(`mutation {
    a: openRecall(input: { model: "${RECALL_MODEL_A}", defect: "Loose arm joint", remedy: "Tighten" }) { code }
    z: openRecall(input: { model: "${RECALL_MODEL_Z}", defect: "Weak battery", remedy: "Replace" }) { code }
  }`);
  return { unitsA, unitsZ, recallA: recalls.a.code, recallZ: recalls.z.code };
}

/** A refusal answers with the code and names what is missing: the roles it needs, or the code outside the caller's enterprise. */
function expectRefusal(result: GraphQLResponse<unknown>, outcome: 'unauth' | 'forbid', guard: string, who: string, target?: string) {
  const refusal = result.errors?.find((e) => e.message.includes(guard));
  expect(refusal, JSON.stringify(result.errors)).toBeDefined();
  expect(refusal!.extensions?.code).toBe(CODE_OF[outcome]);
  if (who.startsWith('maker') && target && outcome === 'forbid' && CALLERS[who]!.enterprise !== target.slice(0, 6)) {
    expect(refusal!.message).toContain(`only for codes under its own enterprise; "${target}`);
  } else {
    expect(refusal!.message).toMatch(/role (authority|manufacturer)/);
    if (who === 'anonymous') expect(refusal!.message).toContain('send a bearer token or an API key');
    if (who === 'noRole') expect(refusal!.message).toContain('the token of "no-role" carries no role');
    expect(refusal!.extensions?.roles).toEqual(expect.arrayContaining(['authority']));
  }
}

describe('access matrix: every caller against every operation', () => {
  let world: World;
  beforeAll(async () => {
    fed = await startFederation([{ country: 'CN' }]);
    world = await seed();
  });
  afterAll(async () => {
    await fed?.stop();
  });

  it('the table covers every operation once, and every caller', async () => {
    expect(rows.map((r) => r.operation).sort()).toEqual(Object.keys(OPERATIONS).sort());
    expect(MATRIX.trim().split('\n')[0]!.split(/\s+/).slice(1)).toEqual(Object.keys(CALLERS));
    // The unchanged-tables check of refused writes sees every schema, and tables that hold rows.
    const tables = Object.keys(await snapshot());
    expect(new Set(tables.map((t) => t.split('.')[0]))).toEqual(new Set(SCHEMAS));
    expect(tables.length).toBeGreaterThanOrEqual(8);
  });

  for (const { operation, outcomes } of rows) {
    const op = OPERATIONS[operation]!;
    Object.keys(CALLERS).forEach((who, i) => {
      const outcome = outcomes[i]!;
      it(`${operation} as ${who}: ${outcome}`, async () => {
        const as = CALLERS[who]!;
        if (op.kind === 'read') {
          const { query, variables } = op.query(world);
          const result = await fed.query(query, variables, as);
          const value = op.pick(result.data);
          if (outcome === 'ok') {
            expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
            op.check(value, world);
          } else if (outcome === 'withheld') {
            expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
            expect(value).toEqual(['WITHHELD']);
          } else {
            expectRefusal(result, outcome, op.guard!, who);
            expect(value ?? null).toBeNull();
          }
          return;
        }
        const { query, variables } = op.mutation(world, who);
        const before = outcome === 'ok' ? null : await snapshot();
        const result = await fed.query(query, variables, as);
        if (outcome === 'ok') {
          expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
          await op.effect(result.data, world, who);
        } else {
          expectRefusal(result, outcome as 'unauth' | 'forbid', op.guard, who, typeof op.target === 'function' ? op.target(world, who) : op.target);
          expect(result.data ?? null).toBeNull();
          expect(await snapshot()).toEqual(before);
        }
      });
    });
  }
});
