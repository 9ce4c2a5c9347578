import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFederation, type Caller, type Federation } from './support/federation.js';
import { signedPost, TEST_AUTHORITY } from './support/signing.js';

const CUSTOMS: Caller = { subject: 'de-customs-post-7', role: 'customs', country: 'DE' };
const ANALYST: Caller = { subject: 'analyst-1', role: 'analyst' };
const MODEL = 'CNAUDTH10001';

const LOG = `query($f: AuditFilter, $first: Int, $after: String) { auditLog(filter: $f, first: $first, after: $after) {
  totalCount pageInfo { hasNextPage endCursor }
  edges { node { id at requestId subject role country enterprise operationType operationName fields codes verdicts outcome } } } }`;

describe('audit log', () => {
  let fed: Federation;
  let units: string[];
  const log = async (filter: Record<string, unknown>, page: { first?: number; after?: string } = {}) => {
    await fed.gateway.flushAudit();
    const result = await fed.query(LOG, { f: filter, ...page });
    expect(result.errors).toBeUndefined();
    return result.data.auditLog;
  };

  beforeAll(async () => {
    fed = await startFederation([{ country: 'CN' }]);
    await fed.query('mutation { registerEnterprise(input: { code: "CNAUDT", name: "Audit Robotics" }) { code } }');
    await fed.query(`mutation { registerProductModel(input: { code: "${MODEL}", name: "A1", category: "humanoid" }) { code } }`);
    const issued = await fed.query(`mutation { registerUnits(input: { model: "${MODEL}", count: 2 }) { code } }`);
    units = issued.data.registerUnits.map((u: { code: string }) => u.code);
  });
  afterAll(() => fed?.stop());

  it('keeps one entry per customs read, with who asked, the codes, the verdicts and the request id', async () => {
    const unknown = `${MODEL}${'9'.repeat(17)}`;
    const response = await fetch(fed.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await fed.headers(CUSTOMS)) },
      body: JSON.stringify({ query: 'query Container($c: [String!]!) { verifyMany(codes: $c) { code verdict } }', variables: { c: [units[0], unknown] } }),
    });
    const body = (await response.json()) as any;
    expect(body.data.verifyMany.map((v: { verdict: string }) => v.verdict)).toEqual(['ADMIT', 'REFUSE']);
    const page = await log({ subject: CUSTOMS!.subject });
    expect(page.totalCount).toBe(1);
    expect(page.edges[0].node).toMatchObject({
      requestId: response.headers.get('x-request-id'),
      subject: 'de-customs-post-7',
      role: 'customs',
      country: 'DE',
      operationType: 'query',
      operationName: 'Container',
      fields: ['verifyMany'],
      codes: [units[0], unknown],
      verdicts: ['ADMIT', 'REFUSE'],
      outcome: 'OK',
    });
  });

  it('keeps every write, refused ones included, and no anonymous or analyst read', async () => {
    const before = (await log({})).totalCount;
    await fed.query(`query { verify(code: "${units[1]}") { verdict } }`, undefined, null);
    await fed.query(`query { registry(country: "CN") { unitCount } }`, undefined, ANALYST);
    await fed.query(`mutation { recordEvents(events: [{ eventId: "audit-1", unit: "${units[1]}", type: MANUFACTURED, occurredAt: "${new Date().toISOString()}" }]) { eventId } }`);
    const refused = await fed.query(`mutation { registerUnits(input: { model: "${MODEL}", count: 1 }) { code } }`, undefined, ANALYST);
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const page = await log({});
    expect(page.totalCount).toBe(before + 2);
    const [last, previous] = page.edges.map((e: any) => e.node);
    expect(last).toMatchObject({ subject: 'analyst-1', role: 'analyst', operationType: 'mutation', fields: ['registerUnits'], codes: [MODEL], outcome: 'FORBIDDEN' });
    expect(previous).toMatchObject({ subject: TEST_AUTHORITY!.subject, role: 'authority', fields: ['recordEvents'], codes: [units[1]], outcome: 'OK' });
  });

  it('records who recorded each lifecycle event, shown to the authority and withheld from customs', async () => {
    const read = `{ unit(code: "${units[1]}") { events { edges { node { eventId recordedBy } } } } }`;
    const asAuthority = await fed.query(read);
    expect(asAuthority.data.unit.events.edges[0].node).toEqual({ eventId: 'audit-1', recordedBy: TEST_AUTHORITY!.subject });
    const asCustoms = await fed.query(read, undefined, CUSTOMS);
    expect(asCustoms.data.unit.events.edges[0].node.recordedBy).toBe('WITHHELD');
  });

  it('filters by code and pages newest first with a cursor', async () => {
    const byCode = await log({ code: units[1] });
    expect(byCode.edges.every((e: any) => e.node.codes.includes(units[1]))).toBe(true);
    const first = await log({}, { first: 1 });
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = await log({}, { first: 1, after: first.pageInfo.endCursor });
    expect(Number(second.edges[0].node.id)).toBeLessThan(Number(first.edges[0].node.id));
  });

  it('is the authority\'s alone to read, and nobody can append to it but the gateway', async () => {
    for (const caller of [CUSTOMS, ANALYST, null]) {
      const denied = await fed.query('{ auditLog { totalCount } }', undefined, caller);
      expect(denied.errors?.[0]?.extensions?.code).toBe(caller ? 'FORBIDDEN' : 'UNAUTHENTICATED');
    }
    // Not in the public API at all...
    const through = await fed.query('mutation { appendAudit(entries: []) }');
    expect(through.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    // ...and refused at the node to any signed caller but the gateway itself.
    const direct = await signedPost(fed.nodes[0]!.urls.audit!, 'audit', { query: 'mutation { appendAudit(entries: []) }' });
    expect(((await direct.json()) as any).errors[0].extensions.code).toBe('FORBIDDEN');
  });

  it('cannot be edited or deleted, even by someone with the database', async () => {
    const db = fed.databases[0]!.forSchema('audit');
    await expect(sql`update audit.audit_entry set subject = 'someone-else'`.execute(db)).rejects.toThrow(/append-only/);
    await expect(sql`delete from audit.audit_entry`.execute(db)).rejects.toThrow(/append-only/);
  });
});
