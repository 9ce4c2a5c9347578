import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatementEvent } from '../lib/database/database.js';
import { startFederation, type Federation } from './support/federation.js';
import { signedFetch } from './support/signing.js';

/**
 * What customs reads about a unit's past, through the gateway: provenance (owners, border crossings,
 * repairs, remedies), open recalls net of remedies, and the lifecycle facts of a customs verdict;
 * each batched to one lifecycle statement per batch of units.
 */
describe(`provenance and recalls (${process.env.DATABASE_URL ? 'Postgres' : 'PGlite'})`, () => {
  const MODEL = 'CNPV01HX0001';
  const DAY = 86_400_000;
  /** Days after a fixed start well before now, so every event is in the past. */
  const START = Date.now() - 400 * DAY;
  const day = (n: number) => new Date(START + n * DAY).toISOString();
  let fed: Federation;
  let units: string[];
  let eventSerial = 0;

  const mutate = async (query: string, variables?: Record<string, unknown>) => {
    const result = await fed.query(query, variables);
    expect(result.errors, query).toBeUndefined();
    return result.data;
  };
  const RECORD = `mutation($e: [LifecycleEventInput!]!) { recordEvents(events: $e) { eventId } }`;
  const ev = (unit: string, type: string, n: number, details: Record<string, string> = {}) => ({
    eventId: `pv-${++eventSerial}`,
    unit,
    type,
    occurredAt: day(n),
    ...details,
  });
  const countLifecycle = async (work: () => Promise<unknown>): Promise<number> => {
    const statements: StatementEvent[] = [];
    await fed.gateway.flushAudit(); // earlier writes' audit entries are not this request's statements
    const stop = fed.databases[0]!.onStatement((event) => statements.push(event));
    try {
      await work();
    } finally {
      stop();
    }
    return statements.filter((s) => s.schema === 'lifecycle').length;
  };

  beforeAll(async () => {
    fed = await startFederation([{ country: 'CN' }]);
    await mutate(`mutation { registerEnterprise(input: { code: "CNPV01", name: "Provenance Robotics" }) { code } }`);
    await mutate(`mutation { registerProductModel(input: { code: "${MODEL}", name: "PV", category: "humanoid" }) { code } }`);
    const data = await mutate(`mutation { registerUnits(input: { model: "${MODEL}", count: 1000 }) { code } }`);
    units = data.registerUnits.map((u: { code: string }) => u.code);
    await mutate(RECORD, { e: units.map((unit) => ev(unit, 'MANUFACTURED', 0)) });
  });
  afterAll(() => fed?.stop());

  it('lists owners over time, border crossings, repairs and remedies, oldest first', async () => {
    const unit = units[0]!;
    const recall = (await mutate(`mutation { openRecall(input: { model: "${MODEL}", defect: "Loose knee actuator", remedy: "Replace actuator" }) { code } }`)).openRecall.code;
    const events = [
      ev(unit, 'SOLD', 10, { owner: 'dealer:SH-0042' }),
      ev(unit, 'DEPLOYED', 12),
      ev(unit, 'MAINTAINED', 20, { note: 'annual service' }),
      ev(unit, 'OWNERSHIP_TRANSFERRED', 40, { owner: 'cust:8f3a9c' }),
      ev(unit, 'EXPORTED', 50, { country: 'DE' }),
      ev(unit, 'IMPORTED', 60, { country: 'DE' }),
      ev(unit, 'REPAIRED', 70, { note: 'left hand servo' }),
      ev(unit, 'RECALL_REMEDIED', 80, { recall }),
    ];
    await mutate(RECORD, { e: events });
    // A sale reported late takes its place in time, not in order of recording.
    const late = ev(unit, 'OWNERSHIP_TRANSFERRED', 30, { owner: 'lease:77' });
    await mutate(RECORD, { e: [late] });

    const result = await mutate(`query($c: ID!) { unit(code: $c) { provenance {
      owners { owner since until eventId }
      borderCrossings { direction country occurredAt eventId }
      repairs { eventId type note occurredAt }
      remedies { eventId recall occurredAt }
    } } }`, { c: unit });
    const id = (i: number) => events[i]!.eventId;
    expect(result.unit.provenance).toEqual({
      owners: [
        { owner: 'dealer:SH-0042', since: day(10), until: day(30), eventId: id(0) },
        { owner: 'lease:77', since: day(30), until: day(40), eventId: late.eventId },
        { owner: 'cust:8f3a9c', since: day(40), until: null, eventId: id(3) },
      ],
      borderCrossings: [
        { direction: 'EXPORT', country: 'DE', occurredAt: day(50), eventId: id(4) },
        { direction: 'IMPORT', country: 'DE', occurredAt: day(60), eventId: id(5) },
      ],
      repairs: [
        { eventId: id(2), type: 'MAINTAINED', note: 'annual service', occurredAt: day(20) },
        { eventId: id(6), type: 'REPAIRED', note: 'left hand servo', occurredAt: day(70) },
      ],
      remedies: [{ eventId: id(7), recall, occurredAt: day(80) }],
    });

    const fresh = await mutate(`query($c: ID!) { unit(code: $c) { provenance { owners { owner } borderCrossings { country } repairs { eventId } remedies { eventId } } } }`, { c: units[1] });
    expect(fresh.unit.provenance).toEqual({ owners: [], borderCrossings: [], repairs: [], remedies: [] });
  });

  it('refuses a remedy of a campaign the registry does not know, or of another model', async () => {
    const unknown = await fed.query(RECORD, { e: [ev(units[2]!, 'RECALL_REMEDIED', 5, { recall: `${MODEL}R0999` })] });
    expect(unknown.errors?.[0]?.extensions).toMatchObject({ code: 'UNKNOWN_RECALL', refusals: [{ rule: 'UNKNOWN_RECALL' }] });
    const other = await fed.query(RECORD, { e: [ev(units[2]!, 'RECALL_REMEDIED', 5, { recall: 'CNPV01ZZ0001R0001' })] });
    expect(other.errors?.[0]?.extensions?.refusals).toEqual([expect.objectContaining({ rule: 'RECALL_OF_OTHER_MODEL' })]);
  });

  it('resolves provenance of 1,000 units in one lifecycle statement', async () => {
    await mutate(RECORD, { e: units.slice(100, 600).map((unit) => ev(unit, 'SOLD', 3, { owner: `cust:${unit.slice(-6)}` })) });
    let result: any;
    const statements = await countLifecycle(async () => {
      result = await fed.query(`query($c: [ID!]!) { units(codes: $c) { code provenance { owners { owner until } repairs { eventId } remedies { eventId } borderCrossings { country } } } }`, { c: units });
    });
    expect(result.errors).toBeUndefined();
    expect(result.data.units).toHaveLength(1000);
    expect(result.data.units[100].provenance.owners).toEqual([{ owner: `cust:${units[100]!.slice(-6)}`, until: null }]);
    expect(result.data.units[999].provenance.owners).toEqual([]);
    expect(statements).toBe(1);
  });

  describe('open recalls', () => {
    const RECALL_FIELDS = `code openRecalls { code defect closedAt } recalls { code closedAt }`;
    let open1: string;
    let closed: string;
    let open2: string;

    beforeAll(async () => {
      const serial = (n: number) => String(n).padStart(17, '0');
      const opened = await mutate(`mutation {
        a: openRecall(input: { model: "${MODEL}", serialFrom: "${serial(900)}", serialTo: "${serial(950)}", defect: "Battery swelling", remedy: "Replace pack" }) { code }
        b: openRecall(input: { model: "${MODEL}", serialFrom: "${serial(900)}", serialTo: "${serial(999)}", defect: "Firmware", remedy: "Update" }) { code }
        c: openRecall(input: { model: "${MODEL}", serialFrom: "${serial(940)}", serialTo: "${serial(1000)}", defect: "Wrist cable", remedy: "Reroute" }) { code }
      }`);
      [open1, closed, open2] = [opened.a.code, opened.b.code, opened.c.code];
      await mutate(`mutation($c: ID!) { closeRecall(code: $c) { code } }`, { c: closed });
    });

    it('are the open campaigns covering the unit that were not remedied on it, through the gateway', async () => {
      const remedied = units[944]!; // serial 945: in all three campaigns
      await mutate(RECORD, { e: [ev(remedied, 'RECALL_REMEDIED', 5, { recall: open1 })] });
      const result = await mutate(`query($c: [ID!]!) { units(codes: $c) { ${RECALL_FIELDS} } }`, { c: [units[944], units[945], units[909], units[0]] });
      const [a, b, c, d] = result.units;
      // The first unit also has the all-model campaign of the first test, remedied there on units[0] only.
      const allModel = a.recalls[0].code as string;
      expect(a.recalls.map((r: any) => r.code)).toEqual([allModel, open1, closed, open2]);
      expect(a.openRecalls).toEqual([
        { code: allModel, defect: 'Loose knee actuator', closedAt: null },
        { code: open2, defect: 'Wrist cable', closedAt: null },
      ]);
      expect(b.openRecalls.map((r: any) => r.code)).toEqual([allModel, open1, open2]);
      expect(c.openRecalls.map((r: any) => r.code)).toEqual([allModel, open1]);
      expect(d.openRecalls).toEqual([]); // remedied in the first test
    });

    it('a remedied campaign no longer counts against the unit in the customs verdict', async () => {
      const result = await mutate(`query($c: [String!]!) { verifyMany(codes: $c) { code verdict reasons { code } } }`, { c: [units[0], units[944]] });
      expect(result.verifyMany[0]).toEqual({ code: units[0], verdict: 'ADMIT', reasons: [] });
      expect(result.verifyMany[1]).toMatchObject({ code: units[944], verdict: 'REFUSE', reasons: [{ code: 'OPEN_RECALL' }] });
    });

    it('come from the recalls in the representation, as the gateway sends them, one statement per batch', async () => {
      const representations = units.map((code, i) => ({
        __typename: 'Unit',
        code,
        recalls: i === 944 ? [{ code: open1, closedAt: null }, { code: closed, closedAt: new Date().toISOString() }, { code: open2, closedAt: null }] : [{ code: open2, closedAt: null }],
      }));
      let body: any;
      const statements = await countLifecycle(async () => {
        const response = await signedFetch(fed.nodes[0]!.urls.lifecycle!, 'lifecycle', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: `query($r: [_Any!]!) { _entities(representations: $r) { ... on Unit { code openRecalls { code } } } }`, variables: { r: representations } }),
        });
        body = await response.json();
      });
      expect(body.errors).toBeUndefined();
      expect(body.data._entities[944]).toEqual({ code: units[944], openRecalls: [{ code: open2 }] });
      expect(body.data._entities[0]).toEqual({ code: units[0], openRecalls: [{ code: open2 }] });
      expect(statements).toBe(1);

      // Without the recalls the field cannot be answered, and says why.
      const response = await signedFetch(fed.nodes[0]!.urls.lifecycle!, 'lifecycle', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: `query($r: [_Any!]!) { _entities(representations: $r) { ... on Unit { openRecalls { code } } } }`, variables: { r: [{ __typename: 'Unit', code: units[0] }] } }),
      });
      const missing: any = await response.json();
      expect(missing.errors?.[0]?.message).toMatch(/recalls/);
    });
  });

  describe('verification facts', () => {
    it('state and remedied campaigns per unit code, null for codes that are not this registry\'s, one statement for 1,000', async () => {
      await mutate(RECORD, { e: [ev(units[999]!, 'REPORTED_STOLEN', 6)] });
      const codes = [...units.slice(0, 997), `DE${units[0]!.slice(2)}`, units[0]!.toLowerCase(), 'CN123'];
      let body: any;
      const statements = await countLifecycle(async () => {
        const response = await signedFetch(fed.nodes[0]!.urls.lifecycle!, 'lifecycle', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            query: `query($r: [_Any!]!) { _entities(representations: $r) { ... on Verification { code lifecycleState remediedRecalls } } }`,
            variables: { r: codes.map((code) => ({ __typename: 'Verification', code })) },
          }),
        });
        body = await response.json();
      });
      expect(body.errors).toBeUndefined();
      const entities = body.data._entities;
      expect(entities).toHaveLength(1000);
      expect(entities[0]).toEqual({ code: units[0], lifecycleState: 'IN_STOCK', remediedRecalls: [expect.stringMatching(/^CNPV01HX0001R\d{4}$/)] });
      expect(entities[944].remediedRecalls).toHaveLength(1);
      expect(entities[500]).toEqual({ code: units[500], lifecycleState: 'IN_STOCK', remediedRecalls: [] });
      expect(entities.slice(997)).toEqual([null, null, null]);
      expect(statements).toBe(1);

      // A unit with no events at all is REGISTERED with nothing remedied.
      const other = await mutate(`mutation { registerUnits(input: { model: "${MODEL}", count: 1 }) { code } }`);
      const fresh = other.registerUnits[0].code;
      const response = await signedFetch(fed.nodes[0]!.urls.lifecycle!, 'lifecycle', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query: `query($r: [_Any!]!) { _entities(representations: $r) { ... on Verification { code lifecycleState remediedRecalls } } }`,
          variables: { r: [{ __typename: 'Verification', code: fresh }, { __typename: 'Verification', code: units[999] }] },
        }),
      });
      expect(((await response.json()) as any).data._entities).toEqual([
        { code: fresh, lifecycleState: 'REGISTERED', remediedRecalls: [] },
        { code: units[999], lifecycleState: 'STOLEN', remediedRecalls: [] },
      ]);
    });
  });
});
