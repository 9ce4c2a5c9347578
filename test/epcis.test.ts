import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { epcisSchemaProblems } from '../gateway/epcis/epcis-schema.js';
import { EVENT_VOCABULARY } from '../gateway/epcis/epcis-vocabulary.js';
import { LIFECYCLE_EVENT_TYPES } from '../subgraphs/lifecycle/state-machine.js';
import { startFederation, type Caller, type Federation } from './support/federation.js';
import { nodeQuery, seedNode } from './support/seed-node.js';

/**
 * EPCIS 2.0 at the gateway (docs/epcis.md): a unit's history read as an EPCISQueryDocument and ObjectEvents
 * captured into recordEvents, both validated against GS1's ratified EPCIS 2.0 JSON schema
 * (vendor/gs1-epcis), both run as the caller through the gateway's GraphQL.
 */
describe(`EPCIS 2.0 (${process.env.DATABASE_URL ? 'Postgres' : 'PGlite'})`, () => {
  const ENTERPRISE = 'CNEP01';
  const MODEL = 'CNEP01RB0001';
  const OTHER_MODEL = 'CNEX02RB0001';
  const DAY = 86_400_000;
  const START = Date.now() - 200 * DAY;
  const day = (n: number) => new Date(START + n * DAY).toISOString();
  const MAKER: Caller = { subject: 'maker-ep', role: 'manufacturer', enterprise: ENTERPRISE };
  const OTHER_MAKER: Caller = { subject: 'maker-ex', role: 'manufacturer', enterprise: 'CNEX02' };
  const ANALYST: Caller = { subject: 'analyst-1', role: 'analyst' };
  const CUSTOMS: Caller = { subject: 'customs-de', role: 'customs', country: 'DE' };
  let fed: Federation;
  let origin: string;
  let units: string[];
  let otherUnit: string;
  let partnerUnit: string;
  let recall: string;
  /** The demo-like unit's events as recorded through GraphQL, in the order they happened. */
  let history: { eventId: string; type: string; occurredAt: string; owner?: string; country?: string; recall?: string; note?: string }[];

  const mutate = async (query: string, variables?: Record<string, unknown>) => {
    const result = await fed.query(query, variables);
    expect(result.errors, query).toBeUndefined();
    return result.data;
  };
  const RECORD = `mutation($e: [LifecycleEventInput!]!) { recordEvents(events: $e) { eventId } }`;
  const epc = (code: string) => `${origin}/id/${code}`;

  async function get(query: string, as?: Caller) {
    const response = await fetch(`${origin}/epcis/events?${query}`, { headers: await fed.headers(as) });
    return { status: response.status, headers: response.headers, body: (await response.json()) as any };
  }
  async function capture(document: unknown, as: Caller = MAKER, headers: Record<string, string> = {}) {
    const response = await fetch(`${origin}/epcis/capture`, {
      method: 'POST',
      headers: { 'content-type': 'application/ld+json', ...(await fed.headers(as)), ...headers },
      body: JSON.stringify(document),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as any };
  }
  const eventsOf = (body: any): any[] => body.epcisBody.queryResults.resultsBody.eventList;
  const stateOf = async (code: string) => (await mutate(`query($c: ID!) { unit(code: $c) { state events { totalCount } } }`, { c: code })).unit;
  const document = (eventList: unknown[]) => ({
    '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld', { rr: 'urn:robot-registry:voc:' }],
    type: 'EPCISDocument',
    schemaVersion: '2.0',
    creationDate: new Date().toISOString(),
    epcisBody: { eventList },
  });
  const objectEvent = (fields: Record<string, unknown>) => ({ type: 'ObjectEvent', eventTimeZoneOffset: '+08:00', action: 'OBSERVE', ...fields });

  beforeAll(async () => {
    fed = await startFederation([{ country: 'CN' }, { country: 'DE' }]);
    origin = new URL(fed.gateway.url).origin;
    await mutate(`mutation { registerEnterprise(input: { code: "${ENTERPRISE}", name: "EPCIS Robotics" }) { code } }`);
    await mutate(`mutation { registerEnterprise(input: { code: "CNEX02", name: "Other Robotics" }) { code } }`);
    await mutate(`mutation { registerProductModel(input: { code: "${MODEL}", name: "EP", category: "humanoid" }) { code } }`);
    await mutate(`mutation { registerProductModel(input: { code: "${OTHER_MODEL}", name: "EX", category: "humanoid" }) { code } }`);
    units = (await mutate(`mutation { registerUnits(input: { model: "${MODEL}", count: 8 }) { code } }`)).registerUnits.map((u: { code: string }) => u.code);
    otherUnit = (await mutate(`mutation { registerUnits(input: { model: "${OTHER_MODEL}", count: 1 }) { code } }`)).registerUnits[0].code;
    recall = (await mutate(`mutation { openRecall(input: { model: "${MODEL}", defect: "Loose knee actuator", remedy: "Replace actuator" }) { code } }`)).openRecall.code;
    // Every event type once, in an order the lifecycle rules accept.
    history = [
      { type: 'MANUFACTURED' },
      { type: 'SOLD', owner: 'dealer:SH-0042' },
      { type: 'DEPLOYED' },
      { type: 'MAINTAINED', note: 'annual service' },
      { type: 'RECALL_REMEDIED', recall },
      { type: 'EXPORTED', country: 'DE' },
      { type: 'IMPORTED', country: 'DE' },
      { type: 'OWNERSHIP_TRANSFERRED', owner: 'cust:8f3a9c' },
      { type: 'SOFTWARE_UPDATED' },
      { type: 'REPAIRED', note: 'left hand servo' },
      { type: 'REPORTED_STOLEN' },
      { type: 'RECOVERED' },
      { type: 'DECOMMISSIONED' },
      { type: 'SCRAPPED' },
      { type: 'RECYCLED' },
    ].map((e, i) => ({ eventId: `ep-${i + 1}`, occurredAt: day(i * 2), ...e }));
    await mutate(RECORD, { e: history.map((e) => ({ unit: units[0], ...e })) });
    // A unit of the partner registry (DE), with events recorded there.
    [partnerUnit] = await seedNode(fed.nodes[1]!, 'DEPRTN', 'DEPRTNP10001', 1) as [string];
    await nodeQuery(fed.nodes[1]!, 'lifecycle', RECORD, { e: [{ eventId: 'de-1', unit: partnerUnit, type: 'MANUFACTURED', occurredAt: day(1) }, { eventId: 'de-2', unit: partnerUnit, type: 'DEPLOYED', occurredAt: day(3) }] });
  });
  afterAll(() => fed?.stop());

  describe('GET /epcis/events', () => {
    it("reads a unit's whole history as an EPCISQueryDocument that validates against GS1's schema, in order, mapped to CBV", async () => {
      const { status, headers, body } = await get(`unit=${units[0]}`);
      expect(status).toBe(200);
      expect(headers.get('content-type')).toMatch(/^application\/ld\+json/);
      expect(headers.get('gs1-epcis-version')).toBe('2.0.0');
      expect(epcisSchemaProblems(body)).toEqual([]);
      expect(body.type).toBe('EPCISQueryDocument');
      const events = eventsOf(body);
      expect(events.map((e) => e['rr:eventType'])).toEqual(history.map((e) => e.type));
      expect(events.map((e) => Date.parse(e.eventTime))).toEqual(history.map((e) => Date.parse(e.occurredAt)));
      expect(events.map((e) => e.eventID)).toEqual(history.map((e) => `urn:robot-registry:event:${e.eventId}`));
      for (const e of events) expect(e.epcList).toEqual([epc(units[0]!)]);
      // The mapping table of docs/epcis.md.
      const P = 'urn:robot-registry:bizstep:';
      expect(events.map((e) => [e['rr:eventType'], e.action, e.bizStep, e.disposition ?? null])).toEqual([
        ['MANUFACTURED', 'ADD', 'commissioning', 'active'],
        ['SOLD', 'OBSERVE', 'retail_selling', 'retail_sold'],
        ['DEPLOYED', 'OBSERVE', `${P}deploying`, 'available'],
        ['MAINTAINED', 'OBSERVE', `${P}maintaining`, null],
        ['RECALL_REMEDIED', 'OBSERVE', `${P}remedying_recall`, null],
        ['EXPORTED', 'OBSERVE', 'shipping', 'in_transit'],
        ['IMPORTED', 'OBSERVE', 'receiving', 'active'],
        ['OWNERSHIP_TRANSFERRED', 'OBSERVE', `${P}transferring_ownership`, null],
        ['SOFTWARE_UPDATED', 'OBSERVE', `${P}updating_software`, null],
        ['REPAIRED', 'OBSERVE', 'repairing', null],
        ['REPORTED_STOLEN', 'OBSERVE', `${P}reporting_theft`, 'stolen'],
        ['RECOVERED', 'OBSERVE', `${P}recovering`, null],
        ['DECOMMISSIONED', 'OBSERVE', `${P}taking_out_of_service`, 'inactive'],
        ['SCRAPPED', 'OBSERVE', 'decommissioning', 'destroyed'],
        ['RECYCLED', 'OBSERVE', 'destroying', 'disposed'],
      ]);
      const byType = (type: string) => events.find((e) => e['rr:eventType'] === type);
      expect(byType('SOLD').destinationList).toEqual([{ type: 'owning_party', destination: 'urn:robot-registry:owner:dealer:SH-0042' }]);
      expect(byType('EXPORTED').destinationList).toEqual([{ type: 'location', destination: 'urn:robot-registry:country:DE' }]);
      expect(byType('IMPORTED').sourceList).toEqual([{ type: 'location', source: 'urn:robot-registry:country:DE' }]);
      expect(byType('RECALL_REMEDIED')['rr:recall']).toBe(recall);
      expect(byType('REPAIRED')['rr:note']).toBe('left hand servo');
      expect(byType('RECYCLED')['rr:stateAfter']).toBe('RECYCLED');
      // The EPC is the passport resolver's URL: it answers with the unit.
      const passport = await fetch(events[0].epcList[0], { headers: { accept: 'application/json' } });
      expect(passport.status).toBe(200);
      expect(((await passport.json()) as any).code).toBe(units[0]);
    });

    it("reads a partner registry's unit through the same routing, in the audit log like any customs read", async () => {
      const { status, headers, body } = await get(`unit=${partnerUnit}`, CUSTOMS);
      expect(status).toBe(200);
      await fed.gateway.flushAudit();
      const audit = await mutate(`query($f: AuditFilter) { auditLog(filter: $f) { edges { node { requestId operationName codes role country outcome } } } }`, { f: { role: 'customs', code: partnerUnit } });
      expect(audit.auditLog.edges.map((e: any) => e.node)).toContainEqual(expect.objectContaining({ requestId: headers.get('x-request-id'), operationName: 'EpcisEvents', codes: [partnerUnit], country: 'DE' }));
      expect(epcisSchemaProblems(body)).toEqual([]);
      expect(eventsOf(body).map((e) => [e.eventID, e.bizStep])).toEqual([['urn:robot-registry:event:de-1', 'commissioning'], ['urn:robot-registry:event:de-2', 'urn:robot-registry:bizstep:deploying']]);
    });

    it('filters by bizStep, disposition, action, event type and event time, and MATCH_epc names the unit', async () => {
      const types = async (query: string) => {
        const { status, body } = await get(query);
        expect(status, JSON.stringify(body)).toBe(200);
        expect(epcisSchemaProblems(body)).toEqual([]);
        return eventsOf(body).map((e) => e['rr:eventType']);
      };
      const unit = `unit=${units[0]}`;
      expect(await types(`${unit}&EQ_bizStep=shipping|receiving`)).toEqual(['EXPORTED', 'IMPORTED']);
      expect(await types(`${unit}&EQ_bizStep=${encodeURIComponent('https://ref.gs1.org/cbv/BizStep-repairing')}`)).toEqual(['REPAIRED']);
      expect(await types(`${unit}&EQ_disposition=stolen`)).toEqual(['REPORTED_STOLEN']);
      expect(await types(`${unit}&EQ_disposition=cbv:Disp-destroyed`)).toEqual(['SCRAPPED']);
      expect(await types(`${unit}&EQ_action=ADD`)).toEqual(['MANUFACTURED']);
      expect(await types(`${unit}&EQ_bizStep=stocking`)).toEqual([]);
      expect(await types(`${unit}&eventType=AggregationEvent`)).toEqual([]);
      expect(await types(`${unit}&eventType=ObjectEvent&EQ_disposition=active`)).toEqual(['MANUFACTURED', 'IMPORTED']);
      const from = encodeURIComponent(history[4]!.occurredAt);
      const before = encodeURIComponent(history[7]!.occurredAt);
      expect(await types(`${unit}&GE_eventTime=${from}&LT_eventTime=${before}`)).toEqual(['RECALL_REMEDIED', 'EXPORTED', 'IMPORTED']);
      expect(await types(`MATCH_epc=${encodeURIComponent(epc(units[0]!))}&EQ_bizStep=commissioning`)).toEqual(['MANUFACTURED']);
    });

    it('pages with perPage and nextPageToken, the next page in a Link header', async () => {
      const seen: string[] = [];
      let url: string | null = `${origin}/epcis/events?unit=${units[0]}&perPage=4`;
      let pages = 0;
      while (url) {
        const response: Response = await fetch(url, { headers: await fed.headers() });
        expect(response.status).toBe(200);
        const body = (await response.json()) as any;
        expect(epcisSchemaProblems(body)).toEqual([]);
        expect(eventsOf(body).length).toBeLessThanOrEqual(4);
        seen.push(...eventsOf(body).map((e) => e.eventID));
        url = /^<([^>]+)>; rel="next"$/.exec(response.headers.get('link') ?? '')?.[1] ?? null;
        pages++;
      }
      expect(pages).toBe(4);
      expect(seen).toEqual(history.map((e) => `urn:robot-registry:event:${e.eventId}`));
    });

    it('refuses what it does not support with a 400 problem naming the parameter', async () => {
      const cases: [string, string][] = [
        [`unit=${units[0]}&EQ_readPoint=urn:x`, 'EQ_readPoint'],
        [`unit=${units[0]}&GE_recordTime=2026-01-01T00:00:00Z`, 'GE_recordTime'],
        [`unit=${units[0]}&perPage=0`, 'perPage'],
        [`unit=${units[0]}&perPage=501`, 'perPage'],
        [`unit=${units[0]}&GE_eventTime=yesterday`, 'GE_eventTime'],
        [`unit=${units[0]}&eventType=Robot`, 'eventType'],
        [`unit=${units[0]}&EQ_action=MOVE`, 'EQ_action'],
        [`unit=${units[0]}&unit=${units[1]}`, 'unit'],
        ['unit=CN-BAD', 'unit'],
        ['', 'unit'],
        [`MATCH_epc=${encodeURIComponent('urn:epc:id:sgtin:0614141.107346.2017')}`, 'MATCH_epc'],
        [`MATCH_epc=${encodeURIComponent(`${epc(units[0]!)}|${epc(units[1]!)}`)}`, 'MATCH_epc'],
        [`unit=${units[0]}&nextPageToken=forged`, 'nextPageToken'],
      ];
      for (const [query, parameter] of cases) {
        const { status, headers, body } = await get(query);
        expect(status, query).toBe(400);
        expect(headers.get('content-type')).toBe('application/problem+json');
        expect(body).toMatchObject({ type: 'epcisException:QueryParameterException', status: 400, parameter });
        expect(body.detail.length).toBeGreaterThan(10);
      }
      const missing = await get(`unit=${units[0]!.slice(0, 12)}99999999999999999`);
      expect(missing.status).toBe(404);
      expect(missing.body).toMatchObject({ type: 'epcisException:NoSuchResourceException', code: 'NOT_REGISTERED' });
      const wrongMethod = await fetch(`${origin}/epcis/events?unit=${units[0]}`, { method: 'POST', headers: await fed.headers() });
      expect(wrongMethod.status).toBe(405);
      expect(wrongMethod.headers.get('allow')).toBe('GET, HEAD');
      const nowhere = await fetch(`${origin}/epcis/queries`, { headers: await fed.headers() });
      expect(nowhere.status).toBe(404);
      expect(((await nowhere.json()) as any).type).toBe('epcisException:NoSuchResourceException');
    });

    it('applies the access policy: events are for signed-in readers, owners for the authority and the maker', async () => {
      const anonymous = await get(`unit=${units[0]}`, null);
      expect(anonymous.status).toBe(401);
      expect(anonymous.body).toMatchObject({ type: 'epcisException:SecurityException', code: 'UNAUTHENTICATED' });
      const badToken = await fetch(`${origin}/epcis/events?unit=${units[0]}`, { headers: { authorization: 'Bearer not-a-jwt' } });
      expect(badToken.status).toBe(401);
      const owners = async (as: Caller) => {
        const { status, body } = await get(`unit=${units[0]}&EQ_bizStep=retail_selling`, as);
        expect(status).toBe(200);
        expect(epcisSchemaProblems(body)).toEqual([]);
        return eventsOf(body)[0].destinationList ?? null;
      };
      expect(await owners(MAKER)).toEqual([{ type: 'owning_party', destination: 'urn:robot-registry:owner:dealer:SH-0042' }]);
      for (const reader of [ANALYST, CUSTOMS, OTHER_MAKER]) expect(await owners(reader)).toBeNull();
    });
  });

  describe('POST /epcis/capture', () => {
    it("records a manufacturer's ObjectEvents, changes the state, and records a re-sent document once", async () => {
      const unit = units[1]!;
      const doc = document([
        objectEvent({ eventID: 'urn:uuid:6f1c7a52-0001-4b1e-9d3e-1a2b3c4d5e01', eventTime: '2026-03-01T09:00:00+08:00', epcList: [epc(unit)], action: 'ADD', bizStep: 'commissioning', disposition: 'active' }),
        objectEvent({ eventID: 'urn:uuid:6f1c7a52-0001-4b1e-9d3e-1a2b3c4d5e02', eventTime: '2026-03-02T09:00:00+08:00', epcList: [epc(unit)], bizStep: 'retail_selling', destinationList: [{ type: 'owning_party', destination: 'urn:robot-registry:owner:dealer:BJ-7' }] }),
        // The EPC as a person might type it: scheme and host in capitals, the code in display form, lower case.
        objectEvent({ eventID: 'urn:uuid:6f1c7a52-0001-4b1e-9d3e-1a2b3c4d5e03', eventTime: '2026-03-03T09:00:00+08:00', epcList: [`${origin.toUpperCase()}/id/${[unit.slice(0, 2), unit.slice(2, 6), unit.slice(6, 12), unit.slice(12)].join('-').toLowerCase()}`], bizStep: 'shipping', disposition: 'in_transit', destinationList: [{ type: 'location', destination: 'urn:robot-registry:country:FR' }], 'rr:note': 'by sea' }),
      ]);
      expect(epcisSchemaProblems(doc)).toEqual([]);
      const first = await capture(doc);
      expect(first.status, JSON.stringify(first.body)).toBe(200);
      expect(first.body).toMatchObject({ running: false, success: true, captureErrorBehaviour: 'rollback' });
      expect(first.body.events.map((e: any) => e.stateAfter)).toEqual(['IN_STOCK', 'IN_STOCK', 'IN_TRANSIT']);
      expect(await stateOf(unit)).toEqual({ state: 'IN_TRANSIT', events: { totalCount: 3 } });
      const again = await capture(doc);
      expect(again.status).toBe(200);
      expect(again.body.events.map((e: any) => e.sequence)).toEqual(first.body.events.map((e: any) => e.sequence));
      expect(await stateOf(unit)).toEqual({ state: 'IN_TRANSIT', events: { totalCount: 3 } });
      const { body } = await get(`unit=${unit}`);
      const read = eventsOf(body);
      expect(read.map((e) => e.eventID)).toEqual(doc.epcisBody.eventList.map((e: any) => e.eventID));
      for (const e of read) expect(e.epcList).toEqual([epc(unit)]);
      expect(read[1].destinationList).toEqual([{ type: 'owning_party', destination: 'urn:robot-registry:owner:dealer:BJ-7' }]);
      expect(read[2]['rr:note']).toBe('by sea');
    });

    it('round trip: captured events read back equivalent, and the read document captured again records nothing new', async () => {
      const unit = units[2]!;
      const sent = [
        objectEvent({ eventID: 'urn:uuid:rt-1', eventTime: '2026-04-01T08:00:00Z', eventTimeZoneOffset: '+00:00', epcList: [epc(unit)], action: 'ADD', bizStep: 'commissioning' }),
        objectEvent({ eventID: 'urn:uuid:rt-2', eventTime: '2026-04-02T10:30:00+02:00', epcList: [epc(unit)], bizStep: 'urn:robot-registry:bizstep:deploying' }),
        objectEvent({ eventID: 'urn:uuid:rt-3', eventTime: '2026-04-03T08:00:00Z', epcList: [epc(unit)], bizStep: 'urn:robot-registry:bizstep:remedying_recall', 'rr:recall': recall }),
        objectEvent({ eventID: 'urn:uuid:rt-4', eventTime: '2026-04-04T08:00:00Z', epcList: [epc(unit)], bizStep: 'https://ref.gs1.org/cbv/BizStep-repairing', 'rr:note': 'wrist' }),
        objectEvent({ eventID: 'urn:uuid:rt-5', eventTime: '2026-04-05T08:00:00Z', epcList: [epc(unit)], bizStep: 'urn:robot-registry:bizstep:reporting_theft', disposition: 'stolen' }),
      ];
      expect((await capture(document(sent), { subject: 'the-authority', role: 'authority' })).status).toBe(200);
      const { body } = await get(`unit=${unit}`);
      expect(epcisSchemaProblems(body)).toEqual([]);
      const read = eventsOf(body);
      expect(read.map((e) => ({ eventID: e.eventID, time: Date.parse(e.eventTime), epc: e.epcList, recall: e['rr:recall'], note: e['rr:note'] }))).toEqual(
        sent.map((e: any) => ({ eventID: e.eventID, time: Date.parse(e.eventTime), epc: e.epcList, recall: e['rr:recall'], note: e['rr:note'] })),
      );
      expect(read.map((e) => e.bizStep)).toEqual(['commissioning', 'urn:robot-registry:bizstep:deploying', 'urn:robot-registry:bizstep:remedying_recall', 'repairing', 'urn:robot-registry:bizstep:reporting_theft']);
      expect((await stateOf(unit)).state).toBe('STOLEN');
      // What GET answers, sent back as a capture document, is the same events: nothing new is written.
      const back = await capture(document(read));
      expect(back.status, JSON.stringify(back.body)).toBe(200);
      expect(await stateOf(unit)).toEqual({ state: 'STOLEN', events: { totalCount: 5 } });
      // Events first recorded through GraphQL (plain eventIds) round-trip too.
      const { body: demo } = await get(`unit=${units[0]}`);
      expect((await capture(document(eventsOf(demo)), { subject: 'the-authority', role: 'authority' })).status).toBe(200);
      expect((await stateOf(units[0]!)).events.totalCount).toBe(history.length);
    });

    it('refuses a document that does not map, naming the event and the field, and writes nothing', async () => {
      const unit = units[3]!;
      const good = objectEvent({ eventID: 'urn:uuid:bad-1', eventTime: '2026-05-01T08:00:00Z', epcList: [epc(unit)], action: 'ADD', bizStep: 'commissioning' });
      const cases: [Record<string, unknown>, string, number][] = [
        [{ eventID: 'urn:uuid:bad-2', eventTime: '2026-05-02T08:00:00Z', epcList: [epc(unit)], bizStep: 'stocking' }, 'bizStep', 400],
        [{ eventID: 'urn:uuid:bad-2', eventTime: '2026-05-02T08:00:00Z', epcList: ['urn:epc:id:sgtin:0614141.107346.2017'], bizStep: 'repairing' }, 'epcList[0]', 400],
        [{ eventID: 'urn:uuid:bad-2', eventTime: '2026-05-02T08:00:00Z', epcList: [epc(unit)], bizStep: 'repairing', action: 'DELETE' }, 'action', 400],
        [{ eventTime: '2026-05-02T08:00:00Z', epcList: [epc(unit)], bizStep: 'repairing' }, 'eventID', 400],
        [{ eventID: 'ni:///sha-256;abc?ver=CBV2.0', eventTime: '2026-05-02T08:00:00Z', epcList: [epc(unit)], bizStep: 'repairing' }, 'eventID', 400],
        [{ eventID: 'urn:uuid:bad-2', eventTime: '2026-05-02T08:00:00Z', epcList: [epc(unit)], bizStep: 'repairing', readPoint: { id: 'urn:epc:id:sgln:0614141.07346.1234' } }, 'readPoint', 400],
        [{ eventID: 'urn:uuid:bad-2', eventTime: '2026-05-02T08:00:00Z', epcList: [epc(unit)], bizStep: 'shipping', disposition: 'destroyed' }, 'disposition', 400],
        [{ eventID: 'urn:uuid:bad-2', eventTime: '2026-05-02T08:00:00Z', epcList: [epc(unit)], bizStep: 'retail_selling', destinationList: [{ type: 'owning_party', destination: 'https://example.org/people/zhang' }] }, 'destinationList[0]', 400],
        // Our form, but no unit of ours: recordEvents' UNKNOWN_UNIT, named by event.
        [{ eventID: 'urn:uuid:bad-2', eventTime: '2026-05-02T08:00:00Z', epcList: [epc(`${MODEL}99999999999999999`)], bizStep: 'repairing' }, '', 400],
        // Maps, but the lifecycle rules refuse it (RECOVERED of a unit that is not stolen).
        [{ eventID: 'urn:uuid:bad-2', eventTime: '2026-05-02T08:00:00Z', epcList: [epc(unit)], bizStep: 'urn:robot-registry:bizstep:recovering' }, '', 409],
      ];
      for (const [bad, field, status] of cases) {
        const { status: got, body } = await capture(document([good, objectEvent(bad)]));
        expect(got, JSON.stringify(body)).toBe(status);
        expect(body.type).toBe('epcisException:ValidationException');
        expect(body.event).toMatchObject({ index: 1 });
        if (bad.eventID) expect(body.event.eventID).toBe(bad.eventID);
        if (field) expect(body.field).toBe(field);
        expect(body.detail).toMatch(/#1|refused/);
      }
      // Not valid against GS1's schema at all: refused before mapping, the pointer named.
      const invalid = await capture(document([{ ...good, eventTimeZoneOffset: undefined }]));
      expect(invalid.status).toBe(400);
      expect(invalid.body).toMatchObject({ code: 'SCHEMA_INVALID', field: '/epcisBody/eventList/0' });
      expect(invalid.body.detail).toContain('eventTimeZoneOffset');
      const aggregationDoc = document([{ type: 'AggregationEvent', eventTime: '2026-05-02T08:00:00Z', eventTimeZoneOffset: '+00:00', action: 'ADD', parentID: 'urn:epc:id:sscc:0614141.1234567890', childEPCs: [epc(unit)] }]);
      expect(epcisSchemaProblems(aggregationDoc)).toEqual([]);
      const aggregation = await capture(aggregationDoc);
      expect(aggregation.status).toBe(400);
      expect(aggregation.body).toMatchObject({ field: 'type', event: { index: 0 } });
      const notJson = await fetch(`${origin}/epcis/capture`, { method: 'POST', headers: { 'content-type': 'application/json', ...(await fed.headers(MAKER)) }, body: '{"type":' });
      expect(notJson.status).toBe(400);
      const proceed = await capture(document([good]), MAKER, { 'GS1-Capture-Error-Behaviour': 'proceed' });
      expect(proceed.status).toBe(400);
      expect(await stateOf(unit)).toEqual({ state: 'REGISTERED', events: { totalCount: 0 } });
    });

    it("refuses callers without the right, another enterprise's unit and a partner's unit, writing nothing", async () => {
      const ev = (code: string, id: string) => objectEvent({ eventID: `urn:uuid:${id}`, eventTime: '2026-05-01T08:00:00Z', epcList: [epc(code)], action: 'ADD', bizStep: 'commissioning' });
      const anonymous = await capture(document([ev(units[4]!, 'r-1')]), null);
      expect(anonymous.status).toBe(401);
      expect(anonymous.body).toMatchObject({ type: 'epcisException:SecurityException', code: 'UNAUTHENTICATED' });
      const analyst = await capture(document([ev(units[4]!, 'r-2')]), ANALYST);
      expect(analyst.status).toBe(403);
      expect(analyst.body.code).toBe('FORBIDDEN');
      const foreignMaker = await capture(document([ev(units[4]!, 'r-3'), ev(otherUnit, 'r-4')]), MAKER);
      expect(foreignMaker.status).toBe(403);
      expect(foreignMaker.body.detail).toContain(ENTERPRISE);
      const partner = await capture(document([ev(partnerUnit, 'r-5')]), { subject: 'the-authority', role: 'authority' });
      expect(partner.status).toBe(400);
      expect(partner.body.code).toBe('FOREIGN_COUNTRY');
      expect(await stateOf(units[4]!)).toEqual({ state: 'REGISTERED', events: { totalCount: 0 } });
      expect(await stateOf(otherUnit)).toEqual({ state: 'REGISTERED', events: { totalCount: 0 } });
      expect((await get(`unit=${partnerUnit}`)).body.epcisBody.queryResults.resultsBody.eventList).toHaveLength(2);
    });
  });
});

describe('docs/epcis.md', () => {
  it('prints the mapping table the code applies, one row per event type', () => {
    const rows = readFileSync(new URL('../docs/epcis.md', import.meta.url), 'utf8')
      .split('\n')
      .filter((line) => /^\| `[A-Z_]+` \| `(ADD|OBSERVE)` \|/.test(line))
      .map((line) => line.split('|').slice(1, 5).map((cell) => cell.trim()));
    const documented = Object.fromEntries(rows.map(([type, action, bizStep, disposition]) => [
      type!.replaceAll('`', ''),
      { action: action!.replaceAll('`', ''), bizStep: bizStep!.replaceAll('`', ''), disposition: /^`([a-z_]+)`/.exec(disposition!)?.[1] },
    ]));
    expect(Object.keys(documented).sort()).toEqual([...LIFECYCLE_EVENT_TYPES].sort());
    for (const type of LIFECYCLE_EVENT_TYPES) {
      const { action, bizStep, disposition } = EVENT_VOCABULARY[type];
      expect(documented[type], type).toEqual({ action, bizStep, disposition });
    }
  });
});
