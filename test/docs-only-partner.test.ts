import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRegistry } from '../gateway/conformance/check-registry.js';
import type { AlertTargets } from '../lib/alerts/alert-url-policy.js';
import { startAlertReceiver, type AlertReceiver } from './fixtures/docs-only-partner/alert-receiver.js';
import { startDocsOnlyPartner, type DocsOnlyPartner } from './fixtures/docs-only-partner/node.js';
import { checkReceipt, ReceiptError } from './fixtures/docs-only-partner/receipt-check.js';
import { startFederation, type Caller, type Federation } from './support/federation.js';
import { seedNode } from './support/seed-node.js';

/**
 * Issue 13, item 5: a partner registry written by someone who read only the docs (test/fixtures/
 * docs-only-partner: SDL-first, one HTTP server, PGlite), with their own alert receiver and receipt
 * checker, joins a federation: the stricter conformance check with its credential, verdicts on its data,
 * receipts checked by the partner's own code, and a theft on the home registry pushed to it.
 */
const CREDENTIAL_ENV = 'DOCS_ONLY_PARTNER_TOKEN';
const PARTNER: Caller = { subject: 'de-registry', role: 'partner', country: 'DE' };
const serial = (n: number) => String(n).padStart(17, '0');
// The fixture's seed for country DE (test/fixtures/docs-only-partner/data.ts).
const R1 = 'DEOSD1RBT001';
const CODES = {
  openRecall: R1 + serial(1),
  remedied: R1 + serial(2),
  stolen: R1 + serial(3),
  outsideRange: R1 + serial(4),
  scrapped: R1 + serial(6),
  withdrawnModel: 'DEOSD1RBT002' + serial(1),
  suspendedMaker: 'DEOSD3DRN001' + serial(1),
  unknown: 'DEOSD2ARM001' + '9'.repeat(17),
};

describe('a partner node written from the docs alone', () => {
  let fed: Federation;
  let partner: DocsOnlyPartner;
  let receiver: AlertReceiver;
  let cn: string[];
  const token = `Bearer ${randomBytes(24).toString('base64url')}`;
  const targets = new Map<string, AlertTargets>();

  beforeAll(async () => {
    receiver = await startAlertReceiver({ secret: 'not yet subscribed' });
    targets.set('DE', { urlPrefixes: [`${receiver.url}/`], allowPrivate: true });
    fed = await startFederation([{ country: 'CN' }], { checkConformance: true, homeAlerts: { targetsFor: (c) => targets.get(c), autoStart: false } });
    cn = await seedNode(fed.nodes[0]!, 'CNDOCS', 'CNDOCS000001', 2);
    partner = await startDocsOnlyPartner({ country: 'DE', credential: { header: 'authorization', value: token } });
    process.env[CREDENTIAL_ENV] = token.slice('Bearer '.length);
  });
  afterAll(async () => {
    delete process.env[CREDENTIAL_ENV];
    await fed?.stop();
    await partner?.close();
    await receiver?.close();
  });

  it('passes the stricter conformance check, its credential included, and joins the directory', async () => {
    const report = await checkRegistry({ countries: ['DE'], subgraphs: partner.urls, headers: { authorization: token } });
    expect(report.endpoints.flatMap((e) => e.problems)).toEqual([]);
    expect(report.conforming).toBe(true);
    const applied = await fed.gateway.store.apply({
      registries: [
        ...fed.directoryInput.registries,
        { name: 'German registry (docs only)', countries: ['DE'], subgraphs: partner.urls, credentials: { header: 'authorization', prefix: 'Bearer ', fromEnv: CREDENTIAL_ENV } },
      ],
    });
    expect(applied).toEqual({ applied: true, problems: [], warnings: [] });
  });

  it('answers its codes through the gateway; the verdicts follow its data', async () => {
    const result = await fed.query(`query($c: [ID!]!, $v: [String!]!) {
      units(codes: $c) { code model { name status } enterprise { name status } state }
      verifyMany(codes: $v) { code verdict reasons { code recalls } answeredBy { country } }
    }`, { c: [CODES.stolen, cn[0], CODES.unknown, 'de-osd1-rbt001-' + serial(2)], v: Object.values(CODES) });
    expect(result.errors).toBeUndefined();
    expect(result.data.units.map((u: { code: string } | null) => u?.code ?? null)).toEqual([CODES.stolen, cn[0], null, CODES.remedied]);
    expect(result.data.units[0]).toMatchObject({ state: 'STOLEN', model: { name: 'Helper R1', status: 'ACTIVE' }, enterprise: { name: 'Outsider Robotics' } });
    const verdicts = Object.fromEntries(
      (result.data.verifyMany as { code: string; verdict: string; reasons: { code: string; recalls: string[] | null }[] }[]).map((v) => [v.code, [v.verdict, ...v.reasons.map((r) => r.code)]]),
    );
    expect(verdicts).toEqual({
      [CODES.openRecall]: ['REFUSE', 'OPEN_RECALL'],
      [CODES.remedied]: ['ADMIT'],
      [CODES.stolen]: ['REFUSE', 'OPEN_RECALL', 'STOLEN'],
      [CODES.outsideRange]: ['ADMIT'],
      [CODES.scrapped]: ['REFUSE', 'SCRAPPED'],
      [CODES.withdrawnModel]: ['REFUSE', 'MODEL_WITHDRAWN'],
      [CODES.suspendedMaker]: ['REFUSE', 'ENTERPRISE_SUSPENDED'],
      [CODES.unknown]: ['REFUSE', 'NOT_REGISTERED'],
    });
    expect(result.data.verifyMany[0].reasons[0].recalls).toEqual([`${R1}R0002`]);
    // Its errors reach clients with the documented extension keys only.
    const tooMany = await fed.query('{ registry(country: "DE") { enterprises(first: 501) { totalCount } } }');
    const extensions = tooMany.errors?.[0]?.extensions ?? {};
    expect(extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', max: 500 });
    const documented = 'code problems input country codes max status index field refusals rule'.split(' ');
    expect(Object.keys(extensions).filter((key) => !documented.includes(key))).toEqual([]);
  });

  it("checks the gateway's receipt for its code with its own checker; one changed character fails", async () => {
    const result = await fed.query(`{ verify(code: "${CODES.stolen}") { verdict receipt } }`, {}, null);
    expect(result.errors).toBeUndefined();
    const jwks = (await (await fetch(new URL('/.well-known/jwks.json', fed.gateway.url))).json()) as { keys: unknown[] };
    const attested = await checkReceipt(result.data.verify.receipt, jwks);
    expect(attested).toMatchObject({ code: CODES.stolen, verdict: 'REFUSE', answeredBy: { country: 'DE' }, issuedBy: { country: 'CN' } });
    expect(attested.reasons.map((r) => r.code)).toEqual(['OPEN_RECALL', 'STOLEN']);
    const parts = (result.data.verify.receipt as string).split('.');
    const at = Math.floor(parts[1]!.length / 2);
    parts[1] = parts[1]!.slice(0, at) + (parts[1]![at] === 'A' ? 'B' : 'A') + parts[1]!.slice(at + 1);
    const failure = await checkReceipt(parts.join('.'), jwks).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ReceiptError);
    expect((failure as ReceiptError).reason).toBe('signature');
  });

  it('receives a theft on the home registry as a signed push alert, once, in order per unit', async () => {
    const created = await fed.query(
      `mutation($input: CreateAlertSubscriptionInput!) { createAlertSubscription(input: $input) { secret subscription { id } } }`,
      { input: { url: `${receiver.url}/de`, scope: { importsInto: 'DE' } } },
      PARTNER,
    );
    expect(created.errors).toBeUndefined();
    receiver.secret = created.data.createAlertSubscription.secret;
    const unit = cn[1]!;
    const at = (n: number) => new Date(Date.parse('2026-11-01T00:00:00Z') + n * 1000).toISOString();
    const recorded = await fed.query(`mutation($e: [LifecycleEventInput!]!) { recordEvents(events: $e) { eventId } }`, {
      e: [
        { eventId: 'docs-partner-1', unit, type: 'MANUFACTURED', occurredAt: at(1) },
        { eventId: 'docs-partner-2', unit, type: 'EXPORTED', occurredAt: at(2), country: 'DE' },
        { eventId: 'docs-partner-3', unit, type: 'REPORTED_STOLEN', occurredAt: at(3) },
      ],
    });
    expect(recorded.errors).toBeUndefined();
    const dispatcher = fed.nodes[0]!.alerts!;
    while (await dispatcher.tick());
    await receiver.waitFor(2);
    expect(receiver.refused).toEqual([]);
    expect(receiver.bySubject(unit).map((a) => [a.kind, a.sequence])).toEqual([
      ['UNIT_EXPORTED', 1],
      ['UNIT_STOLEN', 2],
    ]);
    expect(receiver.accepted).toHaveLength(2);
  });

  it('expecting another credential, it is accepted with a warning naming the 401 and serves nothing; the home registry keeps serving', async () => {
    process.env.DOCS_ONLY_PARTNER_WRONG = 'not-the-token';
    const good = { name: 'German registry (docs only)', countries: ['DE'], subgraphs: partner.urls, credentials: { header: 'authorization', prefix: 'Bearer ', fromEnv: CREDENTIAL_ENV } };
    const wrong = { ...good, credentials: { ...good.credentials, fromEnv: 'DOCS_ONLY_PARTNER_WRONG' } };
    const both = `{ de: unit(code: "${CODES.remedied}") { code } cn: unit(code: "${cn[0]}") { code } }`;
    try {
      // An edit to a wrong credential: flagged, and the entry that works keeps serving meanwhile.
      const edited = await fed.gateway.store.apply({ registries: [...fed.directoryInput.registries, wrong] });
      expect(edited.applied).toBe(true);
      expect(edited.warnings.join('\n')).toMatch(/was edited but its new endpoints are unreachable .*HTTP 401.*refused the credential/);
      expect((await fed.query(both)).data).toEqual({ de: { code: CODES.remedied }, cn: { code: cn[0] } });
      // Added afresh with the wrong credential (at start-up, say): accepted, serving nothing, home unaffected.
      expect((await fed.gateway.store.apply({ registries: fed.directoryInput.registries })).applied).toBe(true);
      const added = await fed.gateway.store.apply({ registries: [...fed.directoryInput.registries, wrong] });
      expect(added.applied).toBe(true);
      expect(added.warnings.join('\n')).toMatch(/is unreachable now \(unreachable: HTTP 401.*refused the credential/);
      const result = await fed.query(both);
      expect(result.data).toEqual({ de: null, cn: { code: cn[0] } });
      expect(result.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['de'], 'REGISTRY_UNAVAILABLE']]);
    } finally {
      delete process.env.DOCS_ONLY_PARTNER_WRONG;
    }
  });
});
