/**
 * Demo data for `npm start`, written through the gateway's public mutations so that it passes every
 * rule a real client's data would: enterprises, product models, about a thousand units with events.
 */

const ENTERPRISES = [
  { code: 'CNHMRB', name: 'Hangzhou Motion Robotics' },
  { code: 'CNSZAI', name: 'Shenzhen Agile Intelligence' },
  { code: 'CNBJHR', name: 'Beijing Humanoid Research Works' },
  { code: 'CNSHMX', name: 'Shanghai Mechatronix' },
];

const MODELS = [
  { code: 'CNHMRBH1A001', name: 'H1 Walker', category: 'humanoid', units: 300 },
  { code: 'CNHMRBG1S001', name: 'G1 Companion', category: 'humanoid', units: 200 },
  { code: 'CNSZAIW2X100', name: 'Walker X2', category: 'humanoid', units: 200 },
  { code: 'CNBJHRT8A001', name: 'Tiangong T8', category: 'research humanoid', units: 150 },
  { code: 'CNSHMXM3R001', name: 'M3 Logistics', category: 'logistics humanoid', units: 150 },
];

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

/** Seeds the demo data unless the home registry already has enterprises; returns whether it seeded. */
export async function seedDemoData(gatewayUrl: string): Promise<boolean> {
  const query: Query = async (q, variables) => {
    const response = await fetch(gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: q, variables }),
    });
    const body = (await response.json()) as { data?: any; errors?: { message: string }[] };
    if (body.errors?.length) throw new Error(`demo data: ${body.errors.map((e) => e.message).join('; ')}`);
    return body.data;
  };
  const existing = await query(`{ registries { country home } }`);
  const home = existing.registries.find((r: { home: boolean }) => r.home).country;
  const count = await query(`query($c: ID!) { registry(country: $c) { enterprises(first: 0) { totalCount } } }`, { c: home });
  if (count.registry.enterprises.totalCount > 0) return false;

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
  return true;
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
