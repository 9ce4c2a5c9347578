import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../lib/database/database.js';
import { sendWithPartnerRights } from '../gateway/routing/partner-rights.js';
import { startRegistryNode, type RunningNode } from '../subgraphs/registry-node.js';
import { startFederation, type Caller, type Federation, type GraphQLResponse } from './support/federation.js';
import { nodeQuery, seedNode } from './support/seed-node.js';
import { TEST_AUTHORITY } from './support/signing.js';
import { createTestDatabase } from './support/test-database.js';

/**
 * The rights table on a partner's data (gateway/routing/partner-rights.ts). A partner gets no caller
 * claims, so it cannot enforce the table: the DE node here answers every request as the authority (as a
 * node written by others, or one that ignores the claims, would), and the gateway must give each caller
 * exactly what the same query on a home (CN) code gives: same errors at the same paths, same nulls,
 * owner references WITHHELD or readable alike.
 */
describe('rights on partner data', () => {
  let fed: Federation;
  let partner: RunningNode;
  let partnerDb: Database;
  let dropPartnerDb: () => Promise<void>;
  let cn: string[];
  let de: string[];

  const RECORD = `mutation($e: [LifecycleEventInput!]!) { recordEvents(events: $e) { eventId } }`;
  const day = (n: number) => new Date(Date.UTC(2026, 0, n)).toISOString();
  const manufactured = (units: string[]) => units.map((unit, i) => ({ eventId: `m-${i}`, unit, type: 'MANUFACTURED', occurredAt: day(1) }));
  const history = (units: string[]) => [
    { eventId: 'r-1', unit: units[0], type: 'SOLD', occurredAt: day(2), owner: 'dealer:SH-0042' },
    { eventId: 'r-2', unit: units[0], type: 'OWNERSHIP_TRANSFERRED', occurredAt: day(5), owner: 'cust:8f3a9c' },
    { eventId: 'r-3', unit: units[1], type: 'SOLD', occurredAt: day(3), owner: 'dealer:MU-7' },
  ];

  beforeAll(async () => {
    fed = await startFederation([{ country: 'CN' }]);
    const database = await createTestDatabase();
    dropPartnerDb = database.drop;
    partnerDb = await openDatabase(database.config);
    // Unsigned, and every request acts as the authority: a node that enforces nothing for the gateway's callers.
    partner = await startRegistryNode({ node: { country: 'DE', name: 'Germany registry (foreign)' }, database: partnerDb, unsignedCallerForBenchmark: TEST_AUTHORITY! });
    const applied = await fed.gateway.store.apply({
      registries: [...fed.directoryInput.registries, { name: 'Germany registry (foreign)', countries: ['DE'], subgraphs: partner.urls }],
    });
    expect(applied.problems).toEqual([]);
    // The same data on both: enterprise AAAAAA of the country, one model, two units, the same history.
    cn = await seedNode(fed.nodes[0]!, 'CNAAAA', 'CNAAAA000001', 2);
    de = await seedNode(partner, 'DEAAAA', 'DEAAAA000001', 2);
    for (const [node, units] of [[fed.nodes[0]!, cn], [partner, de]] as const) {
      await nodeQuery(node, 'lifecycle', RECORD, { e: manufactured(units) });
      await nodeQuery(node, 'lifecycle', RECORD, { e: history(units) });
    }
  });
  afterAll(async () => {
    await fed?.stop();
    await partner?.stop();
    await partnerDb?.close();
    await dropPartnerDb?.();
  });

  const CALLERS: Record<string, (country: string) => Caller> = {
    anonymous: () => null,
    'token without a role': () => ({ subject: 'someone' }),
    analyst: () => ({ subject: 'an-analyst', role: 'analyst' }),
    customs: () => ({ subject: 'a-customs-officer', role: 'customs', country: 'CN' }),
    'manufacturer of the unit': (country) => ({ subject: 'maker', role: 'manufacturer', enterprise: `${country}AAAA` }),
    'another manufacturer': (country) => ({ subject: 'maker-b', role: 'manufacturer', enterprise: `${country}BBBB` }),
    partner: () => ({ subject: 'partner-fr', role: 'partner', country: 'FR' }),
    authority: () => ({ subject: 'test-authority', role: 'authority' }),
  };

  /** The partner's answer with its codes written as the home node's, errors in a stable order. */
  function comparable(result: GraphQLResponse<any>, from: string): unknown {
    const text = JSON.stringify(result).replaceAll(`${from}AAAA`, 'CNAAAA').replaceAll(`${from}BBBB`, 'CNBBBB').replaceAll(`"country":"${from}"`, '"country":"CN"');
    const parsed = JSON.parse(text) as GraphQLResponse<any>;
    parsed.errors?.sort((a, b) => JSON.stringify(a.path).localeCompare(JSON.stringify(b.path)) || a.message.localeCompare(b.message));
    return parsed;
  }

  async function both(query: string, variables: (codes: string[], country: string) => Record<string, unknown>, who: string) {
    const home = await fed.query(query, variables(cn, 'CN'), CALLERS[who]!('CN'));
    const away = await fed.query(query, variables(de, 'DE'), CALLERS[who]!('DE'));
    return { home: comparable(home, 'CN') as GraphQLResponse<any>, away: comparable(away, 'DE') as GraphQLResponse<any> };
  }

  const QUERIES: Record<string, [string, (codes: string[], country: string) => Record<string, unknown>]> = {
    'a unit with its events (a non-null reader field)': [
      `query($c: ID!, $n: Int, $t: [LifecycleEventType!]) { unit(code: $c) { code serial state events(first: $n, filter: { types: $t }) { totalCount edges { node { eventId type owner recordedBy } } } } }`,
      (codes) => ({ c: codes[0], n: 10, t: ['SOLD', 'MANUFACTURED'] }),
    ],
    'a unit with its provenance (owner references)': [
      `query($c: ID!) { unit(code: $c) { code provenance { owners { owner since until } } } }`,
      (codes) => ({ c: codes[0] }),
    ],
    'maker and model with their status histories (nullable reader fields)': [
      `query($c: ID!) { unit(code: $c) { code enterprise { name statusHistory { totalCount } productModels { totalCount } } model { name statusHistory { totalCount } unitCount } } }`,
      (codes) => ({ c: codes[0] }),
    ],
    'a list of units, each with events and owners': [
      `query($c: [ID!]!) { units(codes: $c) { code state provenance { owners { owner } } evs: events(first: 5) { edges { node { owner recordedBy } } } } }`,
      (codes) => ({ c: [codes[1], codes[0]] }),
    ],
    "a registry's units and its events across units": [
      `query($r: String!) { registry(country: $r) { country units(first: 5) { totalCount edges { node { code } } } events(first: 10) { edges { node { eventId owner recordedBy unit { code } } } } } }`,
      (_, country) => ({ r: country }),
    ],
    'public fields only': [
      `query($c: ID!) { unit(code: $c) { code serial state model { name } enterprise { name status } } }`,
      (codes) => ({ c: codes[0] }),
    ],
  };

  for (const who of Object.keys(CALLERS)) {
    for (const [what, [query, variables]] of Object.entries(QUERIES)) {
      it(`${who}: ${what}: the same answer on partner data as on home data`, async () => {
        const { home, away } = await both(query, variables, who);
        expect(away).toEqual(home);
      });
    }
  }

  it('refuses reader fields of partner data to anonymous callers and non-readers, as for home data', async () => {
    const query = QUERIES['a unit with its events (a non-null reader field)']![0];
    const anonymous = await fed.query(query, { c: de[0] }, null);
    // Unit.events is non-null: the unit becomes null, the error is at the field.
    expect(anonymous.data).toEqual({ unit: null });
    expect(anonymous.errors).toEqual([
      expect.objectContaining({
        message: 'Unit.events needs a signed-in caller with role authority or manufacturer or customs or partner or analyst; send a bearer token or an API key',
        path: ['unit', 'events'],
        extensions: expect.objectContaining({ code: 'UNAUTHENTICATED' }),
      }),
    ]);
    const history = `query($c: ID!) { enterprise(code: $c) { name status statusHistory { totalCount } } }`;
    const anonymousHistory = await fed.query(history, { c: 'DEAAAA' }, null);
    expect(anonymousHistory.data).toEqual({ enterprise: { name: 'Maker DEAAAA', status: expect.any(String), statusHistory: null } });
    expect(anonymousHistory.errors).toEqual([expect.objectContaining({ path: ['enterprise', 'statusHistory'], extensions: expect.objectContaining({ code: 'UNAUTHENTICATED' }) })]);
  });

  it('withholds owner references of partner data from all but the authority and the unit’s manufacturer', async () => {
    const query = `query($c: [ID!]!) { units(codes: $c) { code provenance { owners { owner } } events { edges { node { owner recordedBy } } } } }`;
    const owners = (result: GraphQLResponse<any>) =>
      result.data.units.map((u: any) => [u.provenance.owners.map((o: any) => o.owner), u.events.edges.map((e: any) => [e.node.owner, e.node.recordedBy])]);
    // Each unit's history starts with MANUFACTURED (no owner); as on our nodes, a withheld null reads WITHHELD too.
    const read = [
      [['dealer:SH-0042', 'cust:8f3a9c'], [[null, 'test-authority'], ['dealer:SH-0042', 'test-authority'], ['cust:8f3a9c', 'test-authority']]],
      [['dealer:MU-7'], [[null, 'test-authority'], ['dealer:MU-7', 'test-authority']]],
    ];
    const withheld = [
      [['WITHHELD', 'WITHHELD'], [['WITHHELD', 'WITHHELD'], ['WITHHELD', 'WITHHELD'], ['WITHHELD', 'WITHHELD']]],
      [['WITHHELD'], [['WITHHELD', 'WITHHELD'], ['WITHHELD', 'WITHHELD']]],
    ];
    const asked = (result: GraphQLResponse<any>) => (expect(result.errors).toBeUndefined(), owners(result));
    expect(asked(await fed.query(query, { c: de }, { subject: 'test-authority', role: 'authority' }))).toEqual(read);
    expect(asked(await fed.query(query, { c: de }, { subject: 'maker', role: 'manufacturer', enterprise: 'DEAAAA' }))).toEqual(read);
    expect(asked(await fed.query(query, { c: de }, { subject: 'maker', role: 'manufacturer', enterprise: 'CNAAAA' }))).toEqual(withheld);
    expect(asked(await fed.query(query, { c: de }, { subject: 'officer', role: 'customs', country: 'CN' }))).toEqual(withheld);
    expect(asked(await fed.query(query, { c: de }, { subject: 'an-analyst', role: 'analyst' }))).toEqual(withheld);
    // A manufacturer reads its own units' owners and not another's, in one answer mixing home and partner units.
    const mixed = await fed.query(query, { c: [de[0], cn[0]] }, { subject: 'maker', role: 'manufacturer', enterprise: 'DEAAAA' });
    expect(owners(mixed)).toEqual([read[0], withheld[0]]);
  });

  it('refuses per item in a list mixing home and partner units, at the same paths', async () => {
    const result = await fed.query(`query($c: [ID!]!) { units(codes: $c) { code state statusHistory: model { statusHistory { totalCount } } events { totalCount } } }`, { c: [cn[0], de[0], de[1]] }, null);
    expect(result.data.units).toEqual([null, null, null]);
    expect(result.errors?.map((e) => [e.path, e.extensions?.code]).sort()).toEqual(
      [
        [['units', 0, 'events'], 'UNAUTHENTICATED'],
        [['units', 0, 'statusHistory', 'statusHistory'], 'UNAUTHENTICATED'],
        [['units', 1, 'events'], 'UNAUTHENTICATED'],
        [['units', 1, 'statusHistory', 'statusHistory'], 'UNAUTHENTICATED'],
        [['units', 2, 'events'], 'UNAUTHENTICATED'],
        [['units', 2, 'statusHistory', 'statusHistory'], 'UNAUTHENTICATED'],
      ].sort(),
    );
  });
});

describe('what a partner is asked', () => {
  const code = 'DEAAAA000001' + '1'.padStart(17, '0');
  const query = `query($representations: [_Any!]!) { _entities(representations: $representations) {
    ... on Unit { __gatewayKey: code __gatewayType: __typename provenance { owners { owner } } events { totalCount edges { node { owner } } } } } }`;
  const fetchAs = async (caller: Caller, answer: Record<string, unknown>) => {
    const sent: string[] = [];
    const result = await sendWithPartnerRights('lifecycle', { request: { query, variables: { representations: [{ __typename: 'Unit', code }] } }, context: { caller } }, async (options) => {
      sent.push(options.request.query!);
      return structuredClone(answer) as { data?: Record<string, unknown> | null; errors?: never[] };
    });
    return { sent: sent.join('\n'), result };
  };

  it('does not ask for the fields the caller may not read, and answers them as our node would', async () => {
    const { sent, result } = await fetchAs(null, { data: { _entities: [{ __gatewayKey: code, __gatewayType: 'Unit' }] } });
    expect(sent).not.toMatch(/provenance|events|owner/);
    expect(sent).toMatch(/__gatewayKey: code/);
    // provenance is the first refused non-null field: the entity is null, and (as in graphql-js) the rest of it is not run.
    expect(result).toEqual({
      data: { _entities: [null] },
      errors: [{ message: expect.stringMatching(/^Unit\.provenance needs a signed-in caller/), path: ['_entities', 0, 'provenance'], extensions: { code: 'UNAUTHENTICATED', roles: expect.any(Array) } }],
    });
  });

  it('asks for unit codes for a manufacturer only, and withholds owners of other enterprises\' units', async () => {
    const answer = { data: { _entities: [{ __gatewayKey: code, __gatewayType: 'Unit', __rightsCode: code, provenance: { owners: [{ owner: 'o:1' }] }, events: { totalCount: 1, edges: [{ node: { owner: 'o:1', __rightsUnit: { code } } }] } }] } };
    const own = await fetchAs({ subject: 'm', role: 'manufacturer', enterprise: 'DEAAAA' }, answer);
    expect(own.sent).toMatch(/__rightsCode: code/);
    expect(own.sent).toMatch(/__rightsUnit: unit \{\s*code\s*\}/);
    expect(own.result).toEqual({ data: { _entities: [{ __gatewayKey: code, __gatewayType: 'Unit', provenance: { owners: [{ owner: 'o:1' }] }, events: { totalCount: 1, edges: [{ node: { owner: 'o:1' } }] } }] } });
    const other = await fetchAs({ subject: 'm', role: 'manufacturer', enterprise: 'DEBBBB' }, answer);
    expect(other.result.data?._entities).toEqual([{ __gatewayKey: code, __gatewayType: 'Unit', provenance: { owners: [{ owner: 'WITHHELD' }] }, events: { totalCount: 1, edges: [{ node: { owner: 'WITHHELD' } }] } }]);
    const analyst = await fetchAs({ subject: 'a', role: 'analyst' }, answer);
    expect(analyst.sent).toBe(query);
    const authority = await fetchAs({ subject: 't', role: 'authority' }, answer);
    expect(authority.sent).toBe(query);
    expect(authority.result.data?._entities).toEqual(answer.data._entities);
  });
});
