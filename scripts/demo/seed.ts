/**
 * Demo data for `npm start`, written through the gateway's public mutations so that it passes every
 * rule a real client's data would: enterprises, product models, about a thousand units with events.
 */

const ENTERPRISES = [
  { code: 'CNHMRB', name: 'Hangzhou Motion Robotics' },
  { code: 'CNSZAI', name: 'Shenzhen Agile Intelligence' },
  { code: 'CNBJHR', name: 'Beijing Humanoid Research Works' },
  { code: 'CNSHMX', name: 'Shanghai Mechatronix' },
  { code: 'CNGZXR', name: 'Guangzhou Xinrui Automation' },
];

const MODELS = [
  { code: 'CNHMRBH1A001', name: 'H1 Walker', category: 'humanoid', units: 300 },
  { code: 'CNHMRBG1S001', name: 'G1 Companion', category: 'humanoid', units: 200 },
  { code: 'CNSZAIW2X100', name: 'Walker X2', category: 'humanoid', units: 200 },
  { code: 'CNBJHRT8A001', name: 'Tiangong T8', category: 'research humanoid', units: 150 },
  { code: 'CNSHMXM3R001', name: 'M3 Logistics', category: 'logistics humanoid', units: 140 },
  { code: 'CNGZXRS5B001', name: 'S5 Butler', category: 'service humanoid', units: 10 },
];

const serial = (n: number) => String(n).padStart(17, '0');

/** One code per customs verdict reason the demo data produces (printed by npm start, used in the README). */
export const VERDICT_EXAMPLES: Record<string, string> = {
  ADMIT: 'CNHMRBH1A001' + serial(2),
  STOLEN: 'CNHMRBH1A001' + serial(7),
  SCRAPPED: 'CNHMRBH1A001' + serial(8),
  OPEN_RECALL: 'CNHMRBH1A001' + serial(111),
  'recall remedied (ADMIT)': 'CNHMRBH1A001' + serial(102),
  MODEL_WITHDRAWN: 'CNSZAIW2X100' + serial(2),
  ENTERPRISE_SUSPENDED: 'CNSHMXM3R001' + serial(2),
  ENTERPRISE_REVOKED: 'CNGZXRS5B001' + serial(2),
  NOT_REGISTERED: 'CNHMRBH1A001' + '9'.repeat(17),
  MALFORMED_CODE: 'CN-HMRB-H1A001-000000000000001',
  UNKNOWN_COUNTRY: 'ZZHMRBH1A001' + serial(1),
};

/** The first unit of the first model: shown in the start banner and the examples. */
export const DEMO_CODES = {
  enterprise: 'CNHMRB',
  model: 'CNHMRBH1A001',
  unit: 'CNHMRBH1A001' + '1'.padStart(17, '0'),
};

/** Life stories given to units in turn, so the demo has units in every state. */
const STORIES: string[][] = [
  ['MANUFACTURED'],
  ['MANUFACTURED', 'SOLD', 'DEPLOYED'],
  ['MANUFACTURED', 'SOLD', 'DEPLOYED', 'MAINTAINED', 'SOFTWARE_UPDATED'],
  ['MANUFACTURED', 'SOLD', 'DEPLOYED', 'REPAIRED'],
  ['MANUFACTURED', 'SOLD', 'OWNERSHIP_TRANSFERRED', 'DEPLOYED'],
  ['MANUFACTURED', 'EXPORTED'],
  ['MANUFACTURED', 'SOLD', 'DEPLOYED', 'REPORTED_STOLEN'],
  ['MANUFACTURED', 'SOLD', 'DEPLOYED', 'DECOMMISSIONED', 'SCRAPPED'],
  ['MANUFACTURED', 'SOLD', 'DEPLOYED', 'DECOMMISSIONED', 'SCRAPPED', 'RECYCLED'],
  ['MANUFACTURED', 'SOLD', 'DEPLOYED', 'REPORTED_STOLEN', 'RECOVERED'],
];

type Query = (query: string, variables?: Record<string, unknown>) => Promise<any>;

/**
 * Seeds the demo data unless the home registry already has enterprises; returns whether it seeded.
 * Writes need the authority: `headers` carries its credential (the launcher signs a token with the dev key).
 */
export async function seedDemoData(gatewayUrl: string, headers: Record<string, string> = {}): Promise<boolean> {
  const query: Query = async (q, variables) => {
    const response = await fetch(gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query: q, variables }),
    });
    const body = (await response.json()) as { data?: any; errors?: { message: string }[] };
    if (body.errors?.length) throw new Error(`demo data: ${body.errors.map((e) => e.message).join('; ')}`);
    return body.data;
  };
  const existing = await query(`{ registries { country home } }`);
  const home = existing.registries.find((r: { home: boolean }) => r.home).country;
  const count = await query(`query($c: ID!) { registry(country: $c) { enterprises(first: 0) { totalCount } } }`, { c: home });
  if (count.registry.enterprises.totalCount > 0) {
    // The last step of seeding revokes CNGZXR: anything else means an earlier seeding was interrupted.
    const last = await query(`{ enterprise(code: "CNGZXR") { status } }`);
    if (last.enterprise?.status !== 'REVOKED') {
      console.warn('demo data is incomplete (an earlier first start was interrupted); delete the data folder to seed again');
    }
    return false;
  }

  for (const enterprise of ENTERPRISES) {
    await query(`mutation($i: RegisterEnterpriseInput!) { registerEnterprise(input: $i) { code } }`, { i: enterprise });
  }
  let unitIndex = 0;
  for (const model of MODELS) {
    const { units, ...input } = model;
    await query(`mutation($i: RegisterProductModelInput!) { registerProductModel(input: $i) { code } }`, { i: input });
    const issued = await query(`mutation($m: ID!, $n: Int!) { registerUnits(input: { model: $m, count: $n }) { code } }`, { m: model.code, n: units });
    const events = issued.registerUnits.flatMap(({ code }: { code: string }) => storyOf(code, unitIndex++));
    for (let i = 0; i < events.length; i += 1000) {
      await query(`mutation($e: [LifecycleEventInput!]!) { recordEvents(events: $e) { eventId } }`, { e: events.slice(i, i + 1000) });
    }
  }
  await seedAuthorityDecisions(query);
  return true;
}

/**
 * What an authority does to the demo registry: a recall on part of the H1 Walker series (some units
 * already remedied), a withdrawn model, a suspended and a revoked enterprise.
 */
async function seedAuthorityDecisions(query: Query): Promise<void> {
  const recall = await query(`mutation($i: OpenRecallInput!) { openRecall(input: $i) { code } }`, {
    i: { model: 'CNHMRBH1A001', serialFrom: serial(101), serialTo: serial(150), defect: 'knee actuator may overheat under sustained load', remedy: 'replace knee actuator controller firmware and thermal pad' },
  });
  const day = 24 * 3600 * 1000;
  // Units 107-109 are stolen, scrapped and recycled (their stories): no remedy is accepted for them.
  const remedies = [101, 102, 103, 104, 105, 106, 110].map((n) => ({
    eventId: `demo-remedy-${n}`,
    unit: 'CNHMRBH1A001' + serial(n),
    type: 'RECALL_REMEDIED',
    occurredAt: new Date(Date.now() - 2 * day).toISOString(),
    recall: recall.openRecall.code,
  }));
  await query(`mutation($e: [LifecycleEventInput!]!) { recordEvents(events: $e) { eventId } }`, { e: remedies });
  await query(`mutation { setProductModelStatus(code: "CNSZAIW2X100", status: WITHDRAWN, reason: "type approval withdrawn after battery fire investigation") { code } }`);
  await query(`mutation { setEnterpriseStatus(code: "CNSHMX", status: SUSPENDED, reason: "quality audit pending") { code } }`);
  await query(`mutation { setEnterpriseStatus(code: "CNGZXR", status: REVOKED, reason: "registration obtained with false documents") { code } }`);
}

const EXPORT_DESTINATIONS = ['DE', 'JP', 'FR', 'US', 'BR', 'SG'];

/** A story's events spread over the past year, a few weeks apart, ending well before now. */
function storyOf(code: string, index: number) {
  const story = STORIES[index % STORIES.length]!;
  const day = 24 * 3600 * 1000;
  const start = Date.now() - 365 * day + (index % 97) * day;
  return story.map((type, step) => ({
    eventId: `demo-${code}-${step + 1}`,
    unit: code,
    type,
    occurredAt: new Date(start + step * 21 * day).toISOString(),
    ...detailsOf(type, index, step),
  }));
}

/** The details some events require: owners are opaque references (never names), exports a destination. */
function detailsOf(type: string, index: number, step: number): Record<string, string> {
  switch (type) {
    case 'SOLD':
      return { owner: `dealer:${(index % 23).toString(36).toUpperCase().padStart(3, '0')}` };
    case 'OWNERSHIP_TRANSFERRED':
      return { owner: `cust:${((index * 7919 + step) % 1_000_003).toString(36)}` };
    case 'EXPORTED':
      return { country: EXPORT_DESTINATIONS[index % EXPORT_DESTINATIONS.length]! };
    case 'REPAIRED':
      return { note: 'actuator replaced under warranty' };
    default:
      return {};
  }
}
