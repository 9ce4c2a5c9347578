import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertsMigrations } from '../lib/alerts/alerts-migrations.js';
import { ALERTS_SCHEMA } from '../lib/alerts/alerts-table.js';
import { SIGNATURE_HEADER, verifyAlertSignature } from '../lib/alerts/alert-signature.js';
import type { AlertTargets } from '../lib/alerts/alert-url-policy.js';
import { startAlertReceiver } from './support/alert-receiver.js';
import { startFederation, type Caller, type Federation } from './support/federation.js';
import { seedNode } from './support/seed-node.js';

const PARTNER_DE: Caller = { subject: 'de-registry', role: 'partner', country: 'DE' };
const PARTNER_FR: Caller = { subject: 'fr-registry', role: 'partner', country: 'FR' };
const BACKOFF_MS = 1_000;

const CREATE = `mutation($input: CreateAlertSubscriptionInput!) {
  createAlertSubscription(input: $input) { secret subscription { id country url kinds scope { importsInto models } } }
}`;
const RECORD = `mutation($events: [LifecycleEventInput!]!) { recordEvents(events: $events) { eventId } }`;
const DELIVERIES = `query($status: AlertDeliveryStatus, $s: ID) {
  alertDeliveries(status: $status, subscription: $s) { id alertId kind subject sequence status attempts lastError log { httpStatus error latencyMs } }
}`;

describe('push alerts to partners', () => {
  let fed: Federation;
  let receiver: Awaited<ReturnType<typeof startAlertReceiver>>;
  let now = new Date();
  let eventNumber = 0;
  const targets = new Map<string, AlertTargets>();

  beforeAll(async () => {
    receiver = await startAlertReceiver();
    targets.set('DE', { urlPrefixes: [`${receiver.url}/alerts/`], allowPrivate: true });
    // FR's receiver is on a loopback address and the directory does not allow private ones for FR.
    targets.set('FR', { urlPrefixes: [`${receiver.url}/fr/`], allowPrivate: false });
    fed = await startFederation([{ country: 'CN' }], {
      homeAlerts: { targetsFor: (c) => targets.get(c), clock: () => now, backoffMs: (n) => BACKOFF_MS * 2 ** (n - 1), maxAttempts: 3, autoStart: false },
    });
  });
  afterAll(async () => {
    await fed?.stop();
    await receiver?.close();
  });

  const dispatcher = () => fed.nodes[0]!.alerts!;
  /** Runs the dispatcher until it finds nothing due at the current (test) time. */
  const drain = async () => {
    while (await dispatcher().tick());
  };
  const event = (unit: string, type: string, extra: Record<string, unknown> = {}) => ({
    eventId: `alert-test-${++eventNumber}`,
    unit,
    type,
    occurredAt: new Date(Date.parse('2026-11-01T00:00:00Z') + eventNumber * 1000).toISOString(),
    ...extra,
  });
  const record = async (...events: Record<string, unknown>[]) => {
    const result = await fed.query(RECORD, { events });
    expect(result.errors).toBeUndefined();
  };
  const subscribe = async (input: Record<string, unknown>, as: Caller = PARTNER_DE) => {
    const result = await fed.query(CREATE, { input }, as);
    expect(result.errors).toBeUndefined();
    return result.data.createAlertSubscription as { secret: string; subscription: { id: string } };
  };
  const unsubscribe = async (id: string) => {
    const result = await fed.query('mutation($id: ID!) { deleteAlertSubscription(id: $id) }', { id }, PARTNER_DE);
    expect(result.data?.deleteAlertSubscription).toBe(true);
  };

  it('lets a partner subscribe only for its own country, only to URLs the directory allows it, never to a private address', async () => {
    const input = { url: `${receiver.url}/alerts/de`, scope: { importsInto: 'DE' } };
    const analyst = await fed.query(CREATE, { input }, { subject: 'a', role: 'analyst' });
    expect(analyst.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const anonymous = await fed.query(CREATE, { input }, null);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const foreign = await fed.query(CREATE, { input: { ...input, scope: { importsInto: 'FR' } } }, PARTNER_DE);
    expect(foreign.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(foreign.errors?.[0]?.message).toContain('imports into DE only');
    const elsewhere = await fed.query(CREATE, { input: { ...input, url: `${receiver.url}/other` } }, PARTNER_DE);
    expect(elsewhere.errors?.[0]?.extensions?.code).toBe('URL_NOT_ALLOWED');
    const lookalike = await fed.query(CREATE, { input: { ...input, url: `${receiver.url}/alerts.evil/x` } }, PARTNER_DE);
    expect(lookalike.errors?.[0]?.extensions?.code).toBe('URL_NOT_ALLOWED');
    const loopback = await fed.query(CREATE, { input: { url: `${receiver.url}/fr/x`, scope: { importsInto: 'FR' } } }, PARTNER_FR);
    expect(loopback.errors?.[0]?.extensions?.code).toBe('URL_NOT_ALLOWED');
    expect(loopback.errors?.[0]?.message).toMatch(/127\.0\.0\.1, a loopback, private or link-local address/);
    const unlisted = await fed.query(CREATE, { input: { url: 'https://registry.example/x', scope: { importsInto: 'IT' } } }, { subject: 'it', role: 'partner', country: 'IT' });
    expect(unlisted.errors?.[0]?.message).toContain('lists no alertUrls for country IT');

    const created = await subscribe(input);
    expect(created.secret).toMatch(/^whsec_/);
    const asFr = await fed.query('{ alertSubscriptions { id } }', {}, PARTNER_FR);
    expect(asFr.data.alertSubscriptions).toEqual([]);
    const asDe = await fed.query('{ alertSubscriptions { id url scope { importsInto } } }', {}, PARTNER_DE);
    expect(asDe.data.alertSubscriptions).toEqual([{ id: created.subscription.id, url: input.url, scope: { importsInto: 'DE' } }]);
    const frDeletes = await fed.query('mutation($id: ID!) { deleteAlertSubscription(id: $id) }', { id: created.subscription.id }, PARTNER_FR);
    expect(frDeletes.data.deleteAlertSubscription).toBe(false);
    await unsubscribe(created.subscription.id);
  });

  it('delivers a theft of a unit exported to the partner, signed with the subscription secret, in order per unit', async () => {
    const [unit, other, stayedHome] = await seedNode(fed.nodes[0]!, 'CNALRT', 'CNALRTM00001', 3);
    const { secret, subscription } = await subscribe({ url: `${receiver.url}/alerts/de`, scope: { importsInto: 'DE' }, kinds: ['UNIT_STOLEN', 'UNIT_RECOVERED', 'UNIT_SCRAPPED'] });
    const start = receiver.received.length;
    await record(event(unit!, 'MANUFACTURED'), event(unit!, 'EXPORTED', { country: 'DE' }), event(unit!, 'IMPORTED', { country: 'CN' }));
    await record(event(other!, 'MANUFACTURED'), event(other!, 'EXPORTED', { country: 'DE' }), event(other!, 'IMPORTED', { country: 'CN' }));
    await record(event(stayedHome!, 'MANUFACTURED'), event(stayedHome!, 'REPORTED_STOLEN'));
    await record(event(unit!, 'REPORTED_STOLEN'));
    await record(event(other!, 'REPORTED_STOLEN'), event(unit!, 'RECOVERED'));
    await record(event(unit!, 'REPORTED_STOLEN'), event(other!, 'RECOVERED'), event(unit!, 'RECOVERED'), event(unit!, 'SCRAPPED'));
    await drain();
    const got = (await receiver.waitFor(start + 7)).slice(start);
    expect(got).toHaveLength(7); // 5 + 2: the unit that stayed home is nobody's import
    for (const alert of got) {
      expect(verifyAlertSignature(secret, alert.body, alert.headers[SIGNATURE_HEADER] as string)).toBe(true);
      expect(verifyAlertSignature('whsec_wrong', alert.body, alert.headers[SIGNATURE_HEADER] as string)).toBe(false);
      expect(alert.headers['x-alert-id']).toBe(alert.json.id);
      // Which subscription (so which secret) a delivery is for, when one URL serves several.
      expect(alert.headers['x-alert-subscription']).toBe(subscription.id);
    }
    const ofUnit = got.filter((a) => a.json.unit === unit);
    expect(ofUnit.map((a) => a.json.kind)).toEqual(['UNIT_STOLEN', 'UNIT_RECOVERED', 'UNIT_STOLEN', 'UNIT_RECOVERED', 'UNIT_SCRAPPED']);
    const sequences = ofUnit.map((a) => a.json.sequence);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    expect(got.filter((a) => a.json.unit === other).map((a) => a.json.kind)).toEqual(['UNIT_STOLEN', 'UNIT_RECOVERED']);
    expect(ofUnit[0]!.json).toMatchObject({ registry: 'CN', subject: unit, model: 'CNALRTM00001', enterprise: 'CNALRT', facts: { type: 'REPORTED_STOLEN', state: 'STOLEN' } });
    await unsubscribe(subscription.id);
  });

  it('retries with exponential backoff after the receiver fails twice, and logs every attempt', async () => {
    const [unit] = await seedNode(fed.nodes[0]!, 'CNRTRY', 'CNRTRYM00001', 1);
    const { subscription } = await subscribe({ url: `${receiver.url}/alerts/retry`, scope: { models: ['CNRTRYM00001'] }, kinds: ['UNIT_STOLEN'] });
    const start = receiver.received.length;
    await record(event(unit!, 'MANUFACTURED'), event(unit!, 'REPORTED_STOLEN'));
    receiver.failNext(2);
    await drain(); // attempt 1 fails; attempt 2 is due 1 s later
    const pending = await fed.query(DELIVERIES, { s: subscription.id });
    expect(pending.data.alertDeliveries[0]).toMatchObject({ status: 'PENDING', attempts: 1, lastError: 'HTTP 500' });
    now = new Date(now.getTime() + BACKOFF_MS - 1);
    await drain();
    expect((await fed.query(DELIVERIES, { s: subscription.id })).data.alertDeliveries[0].attempts).toBe(1); // not due yet
    now = new Date(now.getTime() + 1);
    await drain(); // attempt 2 fails; attempt 3 is due 2 s later
    now = new Date(now.getTime() + 2 * BACKOFF_MS - 1);
    await drain();
    expect(receiver.received.length).toBe(start);
    now = new Date(now.getTime() + 1);
    await drain();
    await receiver.waitFor(start + 1);
    const done = (await fed.query(DELIVERIES, { s: subscription.id })).data.alertDeliveries[0];
    expect(done).toMatchObject({ status: 'DELIVERED', attempts: 3, kind: 'UNIT_STOLEN', subject: unit });
    expect(done.log.map((a: { httpStatus: number }) => a.httpStatus)).toEqual([500, 500, 204]);
    await unsubscribe(subscription.id);
  });

  it('moves an alert that failed every attempt to the dead letters, which only the authority replays', async () => {
    const [unit] = await seedNode(fed.nodes[0]!, 'CNDEAD', 'CNDEADM00001', 1);
    const { subscription } = await subscribe({ url: `${receiver.url}/alerts/dead`, scope: { models: ['CNDEADM00001'] }, kinds: ['UNIT_SCRAPPED'] });
    await record(event(unit!, 'MANUFACTURED'), event(unit!, 'SCRAPPED'));
    receiver.failNext(3);
    for (let attempt = 0; attempt < 3; attempt++) {
      await drain();
      now = new Date(now.getTime() + 10 * BACKOFF_MS);
    }
    const dead = (await fed.query(DELIVERIES, { status: 'DEAD', s: subscription.id })).data.alertDeliveries;
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ kind: 'UNIT_SCRAPPED', attempts: 3, lastError: 'HTTP 500' });
    const byPartner = await fed.query('mutation($ids: [ID!]!) { replayAlertDeliveries(ids: $ids) }', { ids: [dead[0].id] }, PARTNER_DE);
    expect(byPartner.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const start = receiver.received.length;
    const replay = await fed.query('mutation($ids: [ID!]!) { replayAlertDeliveries(ids: $ids) }', { ids: [dead[0].id] });
    expect(replay.data.replayAlertDeliveries).toEqual([dead[0].id]);
    await drain();
    const [got] = (await receiver.waitFor(start + 1)).slice(start);
    expect(got!.json).toMatchObject({ id: dead[0].alertId, kind: 'UNIT_SCRAPPED', unit, sequence: dead[0].sequence });
    await unsubscribe(subscription.id);
  });

  it('tells a models subscription of recalls opened and closed, a withdrawal and a suspension', async () => {
    await seedNode(fed.nodes[0]!, 'CNMODS', 'CNMODSM00001', 1);
    await seedNode(fed.nodes[0]!, 'CNMODS', 'CNMODSM00002', 1).catch(() => undefined);
    const { subscription } = await subscribe({ url: `${receiver.url}/alerts/models`, scope: { models: ['CNMODSM00001'] } });
    const start = receiver.received.length;
    const opened = await fed.query('mutation { openRecall(input: { model: "CNMODSM00001", defect: "arm joint", remedy: "replace joint" }) { code } }');
    expect(opened.errors).toBeUndefined();
    await fed.query('mutation { openRecall(input: { model: "CNMODSM00002", defect: "other model", remedy: "n/a" }) { code } }');
    const recall = opened.data.openRecall.code;
    expect((await fed.query('mutation($c: ID!) { closeRecall(code: $c) { code } }', { c: recall })).errors).toBeUndefined();
    expect((await fed.query('mutation { setProductModelStatus(code: "CNMODSM00001", status: WITHDRAWN, reason: "unsafe") { code } }')).errors).toBeUndefined();
    expect((await fed.query('mutation { setEnterpriseStatus(code: "CNMODS", status: SUSPENDED, reason: "audit") { code } }')).errors).toBeUndefined();
    await drain();
    const got = (await receiver.waitFor(start + 4)).slice(start);
    // In order per subject (the model; the enterprise is a subject of its own), none about the other model.
    const ofModel = got.filter((a) => a.json.subject === 'CNMODSM00001');
    expect(ofModel.map((a) => [a.json.kind, a.json.sequence])).toEqual([['RECALL_OPENED', 1], ['RECALL_CLOSED', 2], ['MODEL_WITHDRAWN', 3]]);
    expect(got.filter((a) => a.json.subject !== 'CNMODSM00001').map((a) => [a.json.kind, a.json.subject])).toEqual([['ENTERPRISE_SUSPENDED', 'CNMODS']]);
    expect(ofModel[0]!.json.facts).toMatchObject({ recall, defect: 'arm joint' });
    await unsubscribe(subscription.id);
  });

  it('tells an importsInto subscription of recalls of the models its country has units of, and of no others', async () => {
    const [exported] = await seedNode(fed.nodes[0]!, 'CNIMPR', 'CNIMPRM00001', 1);
    await seedNode(fed.nodes[0]!, 'CNIMPR', 'CNIMPRM00002', 1).catch(() => undefined);
    const { subscription } = await subscribe({ url: `${receiver.url}/alerts/imports`, scope: { importsInto: 'DE' }, kinds: ['RECALL_OPENED', 'MODEL_WITHDRAWN'] });
    await record(event(exported!, 'MANUFACTURED'), event(exported!, 'EXPORTED', { country: 'DE' }));
    const start = receiver.received.length;
    await fed.query('mutation { openRecall(input: { model: "CNIMPRM00002", defect: "never exported", remedy: "n/a" }) { code } }');
    expect((await fed.query('mutation { openRecall(input: { model: "CNIMPRM00001", defect: "exported", remedy: "fix" }) { code } }')).errors).toBeUndefined();
    await drain();
    const got = (await receiver.waitFor(start + 1)).slice(start);
    expect(got.map((a) => [a.json.kind, a.json.subject, a.json.facts.defect])).toEqual([['RECALL_OPENED', 'CNIMPRM00001', 'exported']]);
    const deliveries = (await fed.query(DELIVERIES, { s: subscription.id })).data.alertDeliveries;
    expect(deliveries.map((d: { subject: string }) => d.subject)).toEqual(['CNIMPRM00001']);
    await unsubscribe(subscription.id);
  });

  it('covers crossings recorded before alerts existed: the upgrade backfills them, so a later recall still reaches the importer', async () => {
    const [early] = await seedNode(fed.nodes[0]!, 'CNOLDX', 'CNOLDXM00001', 1);
    await record(event(early!, 'MANUFACTURED'), event(early!, 'EXPORTED', { country: 'DE' }));
    // As on a registry upgraded to alerts: its crossings were recorded before alert_unit_crossing existed.
    const alertsDb = fed.databases[0]!.forSchema(ALERTS_SCHEMA);
    await sql`delete from ${sql.table('alerts.alert_unit_crossing')} where unit = ${early!}`.execute(alertsDb);
    await alertsMigrations['2026_12_03_001_backfill_crossings']!.up(alertsDb);
    const { subscription } = await subscribe({ url: `${receiver.url}/alerts/upgrade`, scope: { importsInto: 'DE' }, kinds: ['RECALL_OPENED'] });
    const start = receiver.received.length;
    expect((await fed.query('mutation { openRecall(input: { model: "CNOLDXM00001", defect: "old stock", remedy: "fix" }) { code } }')).errors).toBeUndefined();
    await drain();
    const got = (await receiver.waitFor(start + 1)).slice(start);
    expect(got.map((a) => [a.json.kind, a.json.subject])).toEqual([['RECALL_OPENED', 'CNOLDXM00001']]);
    await unsubscribe(subscription.id);
  });

  it('pages the delivery log newest first with before, and refuses pages over 500 rather than cutting them', async () => {
    const PAGE = `query($first: Int, $before: ID) { alertDeliveries(first: $first, before: $before) { id } }`;
    const [unit] = await seedNode(fed.nodes[0]!, 'CNPAGE', 'CNPAGEM00001', 1);
    const { subscription } = await subscribe({ url: `${receiver.url}/alerts/de`, scope: { importsInto: 'DE' } });
    await record(event(unit!, 'MANUFACTURED'), event(unit!, 'EXPORTED', { country: 'DE' }), event(unit!, 'IMPORTED', { country: 'CN' }));
    await record(event(unit!, 'REPORTED_STOLEN'), event(unit!, 'RECOVERED'), event(unit!, 'SCRAPPED'));
    await drain();
    const first = await fed.query(PAGE, { first: 500 });
    expect(first.errors).toBeUndefined();
    const all = first.data.alertDeliveries.map((d: { id: string }) => d.id) as string[];
    expect(all.length).toBeGreaterThan(3);
    expect([...all].sort((a, b) => Number(b) - Number(a))).toEqual(all);
    const paged: string[] = [];
    let before: string | undefined;
    for (;;) {
      const page = (await fed.query(PAGE, { first: 2, before })).data.alertDeliveries.map((d: { id: string }) => d.id) as string[];
      if (page.length === 0) break;
      paged.push(...page);
      before = page.at(-1);
    }
    expect(paged).toEqual(all);
    const tooMany = await fed.query(PAGE, { first: 501 });
    expect(tooMany.errors?.[0]?.extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', max: 500 });
    const forged = await fed.query(PAGE, { before: 'x; drop table' });
    expect(forged.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    await unsubscribe(subscription.id);
  });

  it('two dispatchers on one database (two node replicas) send each alert once, in order per unit', async () => {
    const { AlertDispatcher } = await import('../lib/alerts/alert-dispatcher.js');
    const { rootLogger } = await import('../lib/logging/logger.js');
    const replica = new AlertDispatcher({ db: fed.databases[0]!.forSchema(ALERTS_SCHEMA), targetsFor: (c) => targets.get(c), log: rootLogger(), country: 'CN', clock: () => now, batch: 7 });
    const units = await seedNode(fed.nodes[0]!, 'CNREPL', 'CNREPLM00001', 20);
    const { subscription } = await subscribe({ url: `${receiver.url}/alerts/replicas`, scope: { models: ['CNREPLM00001'] }, kinds: ['UNIT_STOLEN', 'UNIT_RECOVERED'] });
    const start = receiver.received.length;
    await record(...units.map((u) => event(u, 'MANUFACTURED')));
    await record(...units.map((u) => event(u, 'REPORTED_STOLEN')));
    await record(...units.map((u) => event(u, 'RECOVERED')));
    await record(...units.map((u) => event(u, 'REPORTED_STOLEN')));
    for (;;) {
      const worked = await Promise.all([dispatcher().tick(), replica.tick()]);
      if (!worked.includes(true)) break;
    }
    const got = (await receiver.waitFor(start + 60)).slice(start);
    expect(got).toHaveLength(60);
    expect(new Set(got.map((a) => a.json.id)).size).toBe(60);
    for (const unit of units) {
      expect(got.filter((a) => a.json.unit === unit).map((a) => a.json.kind)).toEqual(['UNIT_STOLEN', 'UNIT_RECOVERED', 'UNIT_STOLEN']);
    }
    await unsubscribe(subscription.id);
  });
});

describe('alertUrls in the registry directory', () => {
  it('is checked by the gateway and read by the node from the same file', async () => {
    const { buildDirectory, DirectoryError } = await import('../gateway/directory/registry-directory.js');
    const { alertTargetsFromDirectory } = await import('../lib/alerts/alert-url-policy.js');
    const subgraphs = { enterprises: 'http://h/1', 'product-models': 'http://h/2', units: 'http://h/3', lifecycle: 'http://h/4' };
    const entry = (alertUrls: unknown) => ({ registries: [{ name: 'CN', countries: ['CN'], home: true, subgraphs }, { name: 'DE', countries: ['DE'], subgraphs, alertUrls }] });
    expect(() => buildDirectory(entry(['ftp://de.example/alerts']))).toThrow(DirectoryError);
    expect(() => buildDirectory(entry(['https://user:pw@de.example/alerts']))).toThrow(/without credentials/);
    expect(() => buildDirectory(entry(['https://de.example/alerts/']))).not.toThrow();
    expect(alertTargetsFromDirectory(entry(['https://de.example/alerts/']), false).get('DE')).toEqual({ urlPrefixes: ['https://de.example/alerts/'], allowPrivate: false });
  });

  it('refuses private, loopback and link-local addresses, IPv4-mapped ones included', async () => {
    const { isPrivateAddress } = await import('../lib/alerts/alert-url-policy.js');
    for (const address of ['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '::1', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '0.0.0.0']) {
      expect(isPrivateAddress(address), address).toBe(true);
    }
    for (const address of ['8.8.8.8', '2001:4860:4860::8888', '::ffff:8.8.8.8']) expect(isPrivateAddress(address), address).toBe(false);
  });
});
